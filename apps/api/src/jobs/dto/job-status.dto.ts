import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import { JOB_STATES } from '../../jobs-engine/job-types';
import { ProblemDetailsDto } from '../../problem/problem-details.dto';

@ApiSchema({
  name: 'JobCounts',
  description: 'How far a job is: items with a result, and those still to come.',
})
export class JobCountsDto {
  @ApiProperty({ example: 500 }) total!: number;
  @ApiProperty({ example: 412, description: 'Items classified.' }) succeeded!: number;
  @ApiProperty({ example: 6, description: 'Items with a problem (a bad URL, not an image, ...).' })
  failed!: number;
  @ApiProperty({ example: 82, description: 'Items without a result yet (or never, once cancelled).' })
  pending!: number;
}

@ApiSchema({
  name: 'Job',
  description: 'A bulk job: its state, progress, options and where its results are.',
})
export class JobStatusDto {
  @ApiProperty({ example: '0b9c5a1e-6d1f-4f4e-9f57-1c2b3d4e5f60' }) id!: string;

  @ApiProperty({
    enum: JOB_STATES,
    example: 'running',
    description:
      '`queued` until an item starts, `running`, then `completed` (every item has a result), `cancelled` (DELETE) or `failed` (its model is no longer served; see `problem`).',
  })
  state!: string;

  @ApiProperty({
    enum: ['json', 'jsonl', 'archive'],
    example: 'json',
    description: 'How the items were sent.',
  })
  input!: string;

  @ApiProperty({ type: JobCountsDto }) counts!: JobCountsDto;

  @ApiProperty({ example: 41.7, description: 'Items finished per second since the job started.' })
  rate_per_second!: number;

  @ApiProperty({
    type: 'number',
    nullable: true,
    example: 2.0,
    description:
      'Seconds until the last item at the current rate; 0 when done, null when not yet measurable.',
  })
  eta_seconds!: number | null;

  @ApiPropertyOptional({ example: 'food101-mobilenet-v1-int8' }) model?: string;
  @ApiPropertyOptional({ example: '1' }) model_version?: string;
  @ApiPropertyOptional({ example: 5 }) top_k?: number;
  @ApiPropertyOptional({ example: 'https://hooks.example.com/food-vision' }) webhook_url?: string;
  @ApiPropertyOptional({ example: 'menu-relabel-2026-12-06' }) idempotency_key?: string;
  @ApiProperty({ example: '2026-12-06T10:00:00.000Z' }) created_at!: string;
  @ApiPropertyOptional({ example: '2026-12-06T10:00:00.120Z' }) started_at?: string;
  @ApiPropertyOptional({ example: '2026-12-06T10:00:12.400Z' }) finished_at?: string;

  @ApiProperty({ example: '/v1/jobs/0b9c5a1e-6d1f-4f4e-9f57-1c2b3d4e5f60/results' })
  results_url!: string;

  @ApiPropertyOptional({ type: ProblemDetailsDto, description: 'Why a `failed` job failed.' })
  problem?: ProblemDetailsDto;
}

@ApiSchema({ name: 'JobList', description: 'Your jobs (those of your API key), newest first.' })
export class JobListDto {
  @ApiProperty({ type: [JobStatusDto] }) jobs!: JobStatusDto[];
}

@ApiSchema({
  name: 'JobResultLine',
  description:
    'One line of `GET /v1/jobs/{id}/results` (JSON Lines): the item’s id and index, and either its `prediction` (the body `POST /v1/predictions` answers) or its `problem` (the problem `POST /v1/predictions` would have answered for that photo, same `code`).',
})
export class JobResultLineDto {
  @ApiProperty({
    example: 'dish-0001',
    description: 'The item’s id: yours, its index, or its path in the archive.',
  })
  id!: string;

  @ApiProperty({ example: 0, description: 'Its index in the input.' }) index!: number;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description:
      'The prediction, as `POST /v1/predictions` answers it (`model`, `predictions`, `image`, ...).',
  })
  prediction?: Record<string, unknown>;

  @ApiPropertyOptional({ type: ProblemDetailsDto }) problem?: ProblemDetailsDto;
}
