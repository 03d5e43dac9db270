import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { parametersProperty, tensorDataProperty } from './v2-tensor-data.schema';

@ApiSchema({
  name: 'V2RequestInput',
  description: 'One input tensor; for a batch, shape and data cover the whole batch.',
})
export class V2RequestInputDto {
  @ApiProperty({
    example: 'image',
    maxLength: 256,
    description: '`image` (BYTES) or `input` (the model input tensor).',
  })
  @MaxLength(256)
  @MinLength(1)
  @IsString()
  name!: string;

  @ApiProperty({
    type: [Number],
    example: [1],
    maxItems: 16,
    description: 'Non-negative dimensions; their product is the element count.',
  })
  @Min(0, { each: true })
  @IsInt({ each: true })
  @ArrayMaxSize(16)
  @IsArray()
  shape!: number[];

  @ApiProperty({
    example: 'BYTES',
    maxLength: 16,
    description: '`BYTES` for `image`; `FP32` or `UINT8` for `input`.',
  })
  @MaxLength(16)
  @IsString()
  datatype!: string;

  @ApiPropertyOptional(parametersProperty('Ignored.'))
  @IsOptional()
  @IsObject()
  parameters?: Record<string, string | number | boolean>;

  @ApiPropertyOptional(
    tensorDataProperty(
      'BYTES: base64 strings of encoded image files. FP32/UINT8: the values, row-major, flat or nested. Absent when the tensor is sent as bytes after the JSON (binary tensor data extension, `parameters.binary_data_size`).',
    ),
  )
  @IsOptional()
  @IsArray()
  data?: unknown[];
}

@ApiSchema({ name: 'V2RequestOutputParameters', description: 'Per-output options.' })
export class V2RequestOutputParametersDto {
  @ApiPropertyOptional({
    minimum: 1,
    example: 3,
    description:
      'Classification extension: return the top N classes as BYTES `"<probability>:<index>:<label>"`, shape [batch, N], instead of the probabilities.',
  })
  @IsOptional()
  @Min(1)
  @IsInt()
  classification?: number;

  @ApiPropertyOptional({
    description:
      'Binary tensor data extension; not supported: outputs are always JSON, which Triton clients read too.',
  })
  @IsOptional()
  @IsBoolean()
  binary_data?: boolean;

  @ApiPropertyOptional({
    enum: ['occlusion'],
    description:
      'Explanation extension, on the output named `explanation`: the method (`occlusion`, the default). See docs/explanations.md.',
  })
  @IsOptional()
  @IsIn(['occlusion'])
  method?: string;

  @ApiPropertyOptional({
    example: 'steak',
    maxLength: 256,
    description:
      'Explanation extension: the class to explain, a label or an index (default: each image’s top-1).',
  })
  @IsOptional()
  @MaxLength(256)
  @IsString()
  class?: string;

  @ApiPropertyOptional({
    minimum: 2,
    example: 32,
    description: 'Explanation extension: patch side, model-input pixels.',
  })
  @IsOptional()
  @Min(2)
  @IsInt()
  patch_size?: number;

  @ApiPropertyOptional({
    minimum: 1,
    example: 16,
    description: 'Explanation extension: distance between patches.',
  })
  @IsOptional()
  @Min(1)
  @IsInt()
  stride?: number;

  @ApiPropertyOptional({
    minimum: 0,
    maximum: 255,
    example: 128,
    description: 'Explanation extension: patch grey level.',
  })
  @IsOptional()
  @Min(0)
  @IsInt()
  baseline?: number;
}

@ApiSchema({ name: 'V2RequestOutput', description: 'An output to return, and how.' })
export class V2RequestOutputDto {
  @ApiProperty({ example: 'probabilities', maxLength: 256 })
  @MaxLength(256)
  @MinLength(1)
  @IsString()
  name!: string;

  @ApiPropertyOptional({ type: V2RequestOutputParametersDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => V2RequestOutputParametersDto)
  parameters?: V2RequestOutputParametersDto;
}

@ApiSchema({ name: 'V2InferenceRequest', description: 'An Open Inference Protocol inference request.' })
export class V2InferenceRequestDto {
  @ApiPropertyOptional({ example: '42', description: 'Returned unchanged in the response.' })
  @IsOptional()
  @IsString()
  id?: string;

  @ApiPropertyOptional({
    ...parametersProperty(
      '`min_confidence` (0 to 1): abstain under this top-1 probability instead of the model’s own `min_confidence`; the answer then has an `abstained` BOOL output. Other parameters are ignored.',
    ),
    example: { min_confidence: 0.5 },
  })
  @IsOptional()
  @IsObject()
  parameters?: Record<string, string | number | boolean>;

  @ApiProperty({
    type: [V2RequestInputDto],
    maxItems: 16,
    description: 'Exactly one input: `image` or `input`.',
  })
  @ValidateNested({ each: true })
  @Type(() => V2RequestInputDto)
  @ArrayMaxSize(16)
  @ArrayMinSize(1)
  @IsArray()
  inputs!: V2RequestInputDto[];

  @ApiPropertyOptional({
    type: [V2RequestOutputDto],
    maxItems: 16,
    description: 'Which outputs to return; all (`probabilities`) when absent.',
  })
  @IsOptional()
  @ValidateNested({ each: true })
  @Type(() => V2RequestOutputDto)
  @ArrayMaxSize(16)
  @IsArray()
  outputs?: V2RequestOutputDto[];
}

@ApiSchema({
  name: 'V2ResponseOutput',
  description: 'One output tensor; for a batch, shape and data cover the whole batch.',
})
export class V2ResponseOutputDto {
  @ApiProperty({ example: 'probabilities' })
  name!: string;

  @ApiProperty({ type: [Number], example: [1, 101] })
  shape!: number[];

  @ApiProperty({ example: 'FP32', enum: ['FP32', 'BYTES', 'BOOL'] })
  datatype!: string;

  @ApiProperty(
    tensorDataProperty(
      'Flat, row-major: FP32 probabilities, or BYTES strings `"<probability>:<index>:<label>"`; for `explanation`, FP32 [batch, rows, cols] probability drops; for `abstained`, BOOL [batch]: true where the top-1 probability is under the min_confidence in force.',
    ),
  )
  data!: Array<number | string | boolean>;

  @ApiPropertyOptional(
    parametersProperty(
      'The `explanation` output only: `method`, `patch_size`, `stride`, `baseline`, `grid_x` and `grid_y` (patch origins, comma-separated), `class_index` and `class_label` (one per image, comma-separated), `masked_images`.',
    ),
  )
  parameters?: Record<string, string | number>;
}

@ApiSchema({ name: 'V2InferenceResponse', description: 'An Open Inference Protocol inference response.' })
export class V2InferenceResponseDto {
  @ApiProperty({ example: 'food101-mobilenet-v1-int8' })
  model_name!: string;

  @ApiProperty({ example: '1' })
  model_version!: string;

  @ApiPropertyOptional({ example: '42', description: 'The request `id`, when it had one.' })
  id?: string;

  @ApiPropertyOptional({
    ...parametersProperty(
      '`min_confidence`: the one in force (the request’s, else the model’s), when answers may abstain.',
    ),
    example: { min_confidence: 0.5 },
  })
  parameters?: { min_confidence: number };

  @ApiProperty({ type: [V2ResponseOutputDto] })
  outputs!: V2ResponseOutputDto[];
}
