import { ExplanationDto } from './explanation.dto';
import { ModelInputImageDto } from './model-input-image.dto';
import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';

@ApiSchema({ name: 'ModelRef', description: 'The model that answered.' })
export class ModelRefDto {
  @ApiProperty({ example: 'food101-mobilenet-v1-int8' })
  name!: string;

  @ApiProperty({ example: '1' })
  version!: string;
}

@ApiSchema({ name: 'ClassPrediction', description: 'One class and its probability.' })
export class ClassPredictionDto {
  @ApiProperty({
    example: 'pizza',
    description: 'The class label as the model names it (Food-101 snake_case).',
  })
  label!: string;

  @ApiProperty({
    example: 'pizza',
    description: 'The label for people (the seed API spelling, e.g. `apple pie`).',
  })
  display_name!: string;

  @ApiProperty({
    example: 0.9961,
    minimum: 0,
    maximum: 1,
    description: 'Probability of this class; all classes sum to 1.',
  })
  confidence!: number;
}

@ApiSchema({
  name: 'Abstention',
  description:
    'Why the answer was withheld: the model is not sure enough (top-1 probability under `min_confidence`).',
})
export class AbstentionDto {
  @ApiProperty({ example: 'low_confidence', enum: ['low_confidence'] })
  reason!: 'low_confidence';

  @ApiProperty({
    example:
      'The top class, ramen, has probability 0.312, under min_confidence 0.5: the model is not sure enough to answer.',
  })
  detail!: string;

  @ApiProperty({ example: 0.5, minimum: 0, maximum: 1, description: 'The threshold in force.' })
  min_confidence!: number;

  @ApiProperty({
    type: [ClassPredictionDto],
    description: 'The classes the model hesitated between (the top k), most likely first.',
  })
  candidates!: ClassPredictionDto[];
}

@ApiSchema({ name: 'ImageInfo', description: 'The image as received, before resizing.' })
export class ImageInfoDto {
  @ApiProperty({
    example: 'jpeg',
    enum: ['jpeg', 'png', 'webp', 'gif', 'bmp'],
    description: 'Format sniffed from the bytes.',
  })
  format!: string;

  @ApiProperty({ example: 800 })
  width!: number;

  @ApiProperty({ example: 600 })
  height!: number;
}

@ApiSchema({ name: 'Timings', description: 'Where the time went, in milliseconds.' })
export class TimingsDto {
  @ApiProperty({ example: 42.1, description: 'Getting the bytes (download, upload or base64 decode), ms.' })
  fetch_ms!: number;

  @ApiProperty({ example: 6.3, description: 'Decoding and resizing to the model input, ms.' })
  decode_ms!: number;

  @ApiProperty({ example: 9.8, description: 'Model inference, ms.' })
  inference_ms!: number;

  @ApiProperty({ example: 58.7, description: 'All of the above and the rest of the request, ms.' })
  total_ms!: number;
}

@ApiSchema({ name: 'PredictionResponse', description: 'The top-k classes for one photo.' })
export class PredictionResponseDto {
  @ApiProperty({ type: ModelRefDto })
  model!: ModelRefDto;

  @ApiProperty({ type: [ClassPredictionDto], description: 'The top-k classes, most likely first.' })
  predictions!: ClassPredictionDto[];

  @ApiProperty({
    example: false,
    description:
      'True when the top class’s probability is under the `min_confidence` in force (the request’s, else the model’s): do not act on `predictions`, see `abstention`.',
  })
  abstained!: boolean;

  @ApiPropertyOptional({
    type: AbstentionDto,
    description: 'Only when `abstained`: why, and the candidates.',
  })
  abstention?: AbstentionDto;

  @ApiProperty({ type: ImageInfoDto })
  image!: ImageInfoDto;

  @ApiProperty({ type: TimingsDto })
  timings!: TimingsDto;

  @ApiPropertyOptional({
    type: ModelInputImageDto,
    description: 'Only with `?include=model_input`: the resized input the model classified, as a PNG.',
  })
  model_input?: ModelInputImageDto;

  @ApiPropertyOptional({
    type: () => ExplanationDto,
    description: 'Only with `?explain=occlusion`: where the model looked, on the grid of `model_input`.',
  })
  explanation?: ExplanationDto;
}
