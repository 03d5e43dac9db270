import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min, MinLength } from 'class-validator';

export const DEFAULT_TOP_K = 5;

/** JSON body of `POST /v1/predictions`: exactly one of `url` and `image`. */
@ApiSchema({
  name: 'PredictionRequest',
  description: 'A photo to classify, as JSON: exactly one of `url` and `image`.',
})
export class PredictionRequestDto {
  @ApiPropertyOptional({
    description: 'An http(s) URL of the photo; the service downloads it (private addresses are refused).',
    example: 'https://example.com/photos/pizza.jpg',
    maxLength: 2048,
  })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(2048)
  url?: string;

  @ApiPropertyOptional({
    description:
      'The photo file (JPEG, PNG, WebP, GIF or BMP) in standard base64; a `data:image/...;base64,` prefix is accepted.',
    example: '/9j/4AAQSkZJRgABAQAAAQABAAD/2wBD',
    format: 'byte',
  })
  @IsOptional()
  @IsString()
  image?: string;

  @ApiPropertyOptional({
    description: 'How many classes to return, most likely first (1 to the number of labels).',
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
}
