import { ApiProperty, ApiSchema, getSchemaPath } from '@nestjs/swagger';
import { ArrayMinSize, IsArray, IsObject } from 'class-validator';
import { ProblemDetailsDto } from '../problem/problem-details.dto';
import { ClassificationOptionsDto } from './dto/classification-options.dto';
import { ImageReferenceDto } from './dto/image-reference.dto';
import { PredictionResponseDto } from './dto/prediction-response.dto';

/** One photo of a batch; validated on its own, so a bad item fails alone. */
@ApiSchema({ name: 'BatchPredictionItem', description: 'One photo: exactly one of `url` and `image`.' })
export class BatchPredictionItemDto extends ImageReferenceDto {}

@ApiSchema({
  name: 'BatchPredictionRequest',
  description: 'Several photos to classify in one request, each answered on its own, in order.',
})
export class BatchPredictionRequestDto extends ClassificationOptionsDto {
  @ApiProperty({
    type: [BatchPredictionItemDto],
    minItems: 1,
    description: 'The photos, at most MAX_BATCH_ITEMS (16 unless the operator changed it).',
  })
  @IsArray()
  @ArrayMinSize(1)
  @IsObject({ each: true })
  items!: Array<Record<string, unknown>>;
}

@ApiSchema({ name: 'BatchItemSuccess', description: 'A photo that was classified.' })
export class BatchItemSuccessDto {
  @ApiProperty({ enum: [200], example: 200, description: 'Always 200.' })
  status!: 200;

  @ApiProperty({ type: PredictionResponseDto })
  prediction!: PredictionResponseDto;
}

@ApiSchema({
  name: 'BatchItemFailure',
  description:
    'A photo that could not be classified, with the problem `POST /v1/predictions` would have answered.',
})
export class BatchItemFailureDto {
  @ApiProperty({
    minimum: 400,
    maximum: 599,
    example: 422,
    description: 'The status this photo alone would have had.',
  })
  status!: number;

  @ApiProperty({ type: ProblemDetailsDto })
  problem!: ProblemDetailsDto;
}

export type BatchItemResult = BatchItemSuccessDto | BatchItemFailureDto;

@ApiSchema({ name: 'BatchPredictionResponse', description: 'One result per item, in the order of `items`.' })
export class BatchPredictionResponseDto {
  @ApiProperty({
    type: 'array',
    items: {
      oneOf: [{ $ref: getSchemaPath(BatchItemSuccessDto) }, { $ref: getSchemaPath(BatchItemFailureDto) }],
    },
    description: '`results[i]` answers `items[i]`: a prediction (status 200) or a problem (4xx/5xx).',
  })
  results!: BatchItemResult[];
}
