import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import { DriftScoresDto, MonitoringDto } from './monitoring.dto';

const DRIFT_STATUSES = ['ok', 'drifting', 'warming_up', 'no_reference'];

@ApiSchema({ name: 'MonitoringTotals', description: 'The answers of the last hour.' })
export class MonitoringTotalsDto {
  @ApiProperty({ example: 412, description: 'Classified images (each image of a batch counts).' })
  predictions!: number;

  @ApiProperty({ example: 9, description: 'Answers withheld: top-1 under the min_confidence in force.' })
  abstentions!: number;

  @ApiProperty({
    example: 37,
    description: 'Answers whose top-1 probability is under QUALITY_LOW_CONFIDENCE.',
  })
  low_confidence!: number;
}

@ApiSchema({
  name: 'ConfidenceDistribution',
  description:
    'The top-1 probability of the last hour’s answers, and of the reference photos’, counted in the same buckets.',
})
export class ConfidenceDistributionDto {
  @ApiProperty({
    type: [Number],
    example: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1],
    description:
      'Upper bound of each bucket (a bucket holds probabilities above the previous edge, up to its own).',
  })
  edges!: number[];

  @ApiProperty({ type: [Number], example: [0, 0, 3, 5, 8, 10, 12, 20, 31, 40, 85, 198] })
  counts!: number[];

  @ApiPropertyOptional({
    type: [Number],
    example: [0, 0, 0, 0, 1, 0, 1, 1, 0, 1, 2, 7],
    description: 'The reference profile’s counts; absent without a reference.',
  })
  reference_counts?: number[];
}

@ApiSchema({ name: 'ClassShare', description: 'One class’s share of the answers.' })
export class ClassShareDto {
  @ApiProperty({ example: 'pizza' })
  label!: string;

  @ApiProperty({ example: 51, description: 'Answers of the last hour with this top-1 class.' })
  count!: number;

  @ApiProperty({ example: 0.1238, description: 'Their share of the last hour’s answers.' })
  share!: number;

  @ApiPropertyOptional({
    example: 0.1538,
    description: 'The class’s share of the reference photos’ answers; absent without a reference.',
  })
  reference_share?: number;
}

@ApiSchema({ name: 'OtherClassesShare', description: 'The classes not listed, together.' })
export class OtherClassesShareDto {
  @ApiProperty({ example: 40 })
  count!: number;

  @ApiProperty({ example: 0.0971 })
  share!: number;

  @ApiPropertyOptional({ example: 0.0769 })
  reference_share?: number;
}

@ApiSchema({
  name: 'ClassMix',
  description:
    'The ten classes with the largest share in the last hour or in the reference (so a class that vanished still shows), most first, and the rest as `other`.',
})
export class ClassMixDto {
  @ApiProperty({ type: [ClassShareDto] })
  classes!: ClassShareDto[];

  @ApiProperty({ type: OtherClassesShareDto })
  other!: OtherClassesShareDto;
}

@ApiSchema({
  name: 'MonitoringSlot',
  description:
    'One time slot (`slot_seconds` long) with answers or a drift sample; slots with neither are left out. The newest is still filling.',
})
export class MonitoringSlotDto {
  @ApiProperty({ example: '2026-12-06T10:00:00.000Z', description: 'When the slot began.' })
  start!: string;

  @ApiProperty({ example: 12 })
  predictions!: number;

  @ApiProperty({ example: 1.2, description: '`predictions` over the slot’s length.' })
  predictions_per_second!: number;

  @ApiPropertyOptional({
    example: 0,
    description: 'Withheld answers over `predictions`; absent without any.',
  })
  abstention_rate?: number;

  @ApiPropertyOptional({
    example: 0.0833,
    description: 'Answers under QUALITY_LOW_CONFIDENCE over `predictions`; absent without any.',
  })
  low_confidence_rate?: number;

  @ApiPropertyOptional({ enum: DRIFT_STATUSES, example: 'ok', description: 'The drift status sampled.' })
  drift_status?: string;

  @ApiPropertyOptional({ type: DriftScoresDto, description: 'The drift scores sampled, once judged.' })
  drift_scores?: DriftScoresDto;
}

@ApiSchema({ name: 'MonitoringCandidate', description: 'A class the model considered, and its probability.' })
export class MonitoringCandidateDto {
  @ApiProperty({ example: 'ramen' })
  label!: string;

  @ApiProperty({ example: 0.3112 })
  confidence!: number;
}

@ApiSchema({
  name: 'LowConfidencePrediction',
  description: 'An answer under QUALITY_LOW_CONFIDENCE, or withheld: what the model said, never the image.',
})
export class LowConfidencePredictionDto {
  @ApiProperty({ example: '2026-12-06T10:04:31.207Z' })
  at!: string;

  @ApiProperty({
    enum: ['v1', 'seed', 'v2', 'grpc', 'job'],
    example: 'v1',
    description: 'The front-end it came through (`job`: an item of a bulk job).',
  })
  protocol!: string;

  @ApiPropertyOptional({ example: 'b6f3c2d1-0c1e-4a55-9d5e-1f0f5c9a7e21', description: 'Its X-Request-Id.' })
  request_id?: string;

  @ApiProperty({ example: false, description: 'Whether the answer was withheld (min_confidence).' })
  abstained!: boolean;

  @ApiProperty({
    type: [MonitoringCandidateDto],
    description: 'Its top classes (at most 5), most likely first.',
  })
  top!: MonitoringCandidateDto[];
}

@ApiSchema({
  name: 'ModelMonitoring',
  description: 'One served model version, as the /monitor page draws it.',
})
export class ModelMonitoringDto {
  @ApiProperty({ example: 'food101-mobilenet-v1-int8' })
  name!: string;

  @ApiProperty({ example: '1', description: 'The version served.' })
  version!: string;

  @ApiProperty({ type: MonitoringDto, description: 'The drift status now, as in GET /v1/models/{name}.' })
  monitoring!: MonitoringDto;

  @ApiProperty({ type: MonitoringTotalsDto })
  totals!: MonitoringTotalsDto;

  @ApiProperty({ type: ConfidenceDistributionDto })
  confidence!: ConfidenceDistributionDto;

  @ApiProperty({ type: ClassMixDto })
  class_mix!: ClassMixDto;

  @ApiProperty({ type: [MonitoringSlotDto], description: 'The last hour, oldest slot first.' })
  series!: MonitoringSlotDto[];

  @ApiProperty({
    type: [LowConfidencePredictionDto],
    description: 'The latest 20 low-confidence or withheld answers of the last hour, newest first.',
  })
  low_confidence!: LowConfidencePredictionDto[];
}

@ApiSchema({
  name: 'MonitoringOverview',
  description:
    'What every served model answered lately, kept in memory for one hour. See docs/monitoring.md.',
})
export class MonitoringOverviewDto {
  @ApiProperty({ example: '2026-12-06T10:05:00.000Z' })
  generated_at!: string;

  @ApiProperty({ example: 10, description: 'The length of a time slot.' })
  slot_seconds!: number;

  @ApiProperty({ example: 3600, description: 'How far back the history goes.' })
  history_seconds!: number;

  @ApiProperty({ example: 0.5, description: 'QUALITY_LOW_CONFIDENCE.' })
  low_confidence_threshold!: number;

  @ApiProperty({
    type: [ModelMonitoringDto],
    description: 'Every model ready to serve, in the order of /v1/models.',
  })
  models!: ModelMonitoringDto[];
}
