import { ApiProperty, ApiPropertyOptional, ApiSchema, getSchemaPath } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min, MinLength } from 'class-validator';

/** What a job may say about its items' answers, and how to tell the client it ended. */
@ApiSchema({
  name: 'JobOptions',
  description: 'Options of a job: in the JSON body, or as query parameters with a JSONL list or an archive.',
})
export class JobOptionsDto {
  @ApiPropertyOptional({
    description: 'How many classes to return for each photo (1 to the number of labels; by default 5).',
    minimum: 1,
    maximum: 1000,
    example: 5,
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  top_k?: number;

  @ApiPropertyOptional({
    description:
      'Which model classifies the items (GET /v1/models lists them); the default model when omitted.',
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
      'The model version the items must be classified by; when it is no longer served, the job fails with `model_version_not_found`.',
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
      'Where to POST a CloudEvents 1.0 event (structured mode, type `com.foodvision.job.completed`, `.cancelled` or `.failed`, id `<job id>.<state>`, data: the job status) when the job ends. Checked like an image URL: a private, loopback or cluster-internal address is refused.',
    example: 'https://hooks.example.com/food-vision',
    maxLength: 2048,
  })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(2048)
  webhook_url?: string;

  @ApiPropertyOptional({
    description:
      'A key of your choosing (also accepted as the `Idempotency-Key` header): sending the same request again with it returns the job it made (200) instead of a second job; the same key with another request is 409 `idempotency_key_reused`.',
    example: 'menu-relabel-2026-12-06',
    maxLength: 200,
  })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  idempotency_key?: string;
}

@ApiSchema({ name: 'JobItem', description: 'One photo of a job, by URL, with your id for it.' })
export class JobItemDto {
  @ApiPropertyOptional({
    description: 'Your id for the item (unique in the job); by default its index in `items`.',
    example: 'dish-0001',
    maxLength: 512,
  })
  id?: string;

  @ApiProperty({
    description: 'The photo’s http(s) URL, fetched like `POST /v1/predictions` does.',
    example: 'https://example.com/pizza.jpg',
  })
  url!: string;
}

@ApiSchema({
  name: 'JobUploadForm',
  description:
    'A job as a form (`curl -F archive=@photos.zip -F top_k=3`): the file, and the options as text fields.',
})
export class JobUploadFormDto extends JobOptionsDto {
  @ApiProperty({
    type: 'string',
    format: 'binary',
    description:
      'A zip, tar or tar.gz of photo files, or a JSONL list of `{"id", "url"}` (a name ending in .jsonl or .ndjson).',
  })
  archive!: unknown;
}

@ApiSchema({
  name: 'CreateJobRequest',
  description: 'A job as JSON: the photos’ URLs (plain strings or `{id, url}` objects) and the options.',
})
export class CreateJobRequestDto extends JobOptionsDto {
  @ApiProperty({
    type: 'array',
    minItems: 1,
    items: {
      oneOf: [
        { type: 'string', example: 'https://example.com/pizza.jpg' },
        { $ref: getSchemaPath(JobItemDto) },
      ],
    },
    description: 'The photos, at most JOBS_MAX_ITEMS waiting per API key over all its unfinished jobs.',
  })
  items!: unknown[];
}
