import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min, MinLength } from 'class-validator';
import { ImageReferenceDto } from './image-reference.dto';

export const DEFAULT_TOP_K = 5;

/** JSON body of `POST /v1/predictions`: exactly one of `url` and `image`. */
@ApiSchema({
  name: 'PredictionRequest',
  description: 'A photo to classify, as JSON: exactly one of `url` and `image`.',
})
export class PredictionRequestDto extends ImageReferenceDto {
  @ApiPropertyOptional({
    description:
      'How many classes to return, most likely first (1 to the number of labels; by default 5, or every class of a model with fewer).',
    minimum: 1,
    maximum: 1000,
    default: DEFAULT_TOP_K,
    example: 5,
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  top_k?: number;

  @ApiPropertyOptional({
    description: 'Which model to ask (GET /v1/models lists them); the default model when omitted.',
    example: 'food101-mobilenet-v1-int8',
    maxLength: 64,
  })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  model?: string;

  @ApiPropertyOptional({
    description:
      'The model version expected; refused with 404 `model_version_not_found` when another one is served.',
    example: '1',
    maxLength: 64,
  })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  model_version?: string;
}

/** Multipart body of `POST /v1/predictions`: the photo as file field `image`. */
@ApiSchema({
  name: 'PredictionUpload',
  description: 'A photo to classify, as multipart/form-data: the file in field `image`.',
})
export class PredictionUploadDto {
  @ApiProperty({
    type: 'string',
    format: 'binary',
    description: 'The photo file (JPEG, PNG, WebP, GIF or BMP).',
  })
  image!: string;

  @ApiPropertyOptional({
    description: 'How many classes to return, most likely first.',
    minimum: 1,
    maximum: 1000,
    default: DEFAULT_TOP_K,
  })
  top_k?: number;

  @ApiPropertyOptional({ description: 'Which model to ask; the default model when omitted.', maxLength: 64 })
  model?: string;

  @ApiPropertyOptional({ description: 'The model version expected.', maxLength: 64 })
  model_version?: string;
}
