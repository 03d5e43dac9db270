import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsNumber, IsOptional, IsString, Max, MaxLength, Min, MinLength } from 'class-validator';

import { DEFAULT_TOP_K } from '../../data-plane/top-k';

/** What a /v1 request may say about the answer: how many classes, from which model. Shared by single and batch. */
export class ClassificationOptionsDto {
  @ApiPropertyOptional({
    description:
      'How many classes to return for each photo, most likely first (1 to the number of labels; by default 5, or every class of a model with fewer).',
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

  @ApiPropertyOptional({
    description:
      'Abstain when the top class’s probability is under this (0 to 1): the answer then has `abstained: true` and the `abstention` that says why. By default the model’s own `min_confidence` (its manifest’s `monitoring` block; none: never abstain).',
    minimum: 0,
    maximum: 1,
    example: 0.5,
  })
  @IsOptional()
  @Type(() => Number)
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(1)
  min_confidence?: number;
}
