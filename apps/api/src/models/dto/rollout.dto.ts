import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';

@ApiSchema({ name: 'AutoRollback', description: 'When to end a rollout by itself (never promotes).' })
export class AutoRollbackDto {
  @ApiProperty({ example: 200, minimum: 1, description: 'Compared images needed before judging.' })
  min_compared!: number;

  @ApiPropertyOptional({
    example: 0.9,
    minimum: 0,
    maximum: 1,
    description: 'Roll back under this top-1 agreement.',
  })
  min_agreement?: number;

  @ApiPropertyOptional({
    example: 0.01,
    minimum: 0,
    maximum: 1,
    description: 'Roll back when the candidate’s error rate exceeds the stable one’s by more than this.',
  })
  max_error_increase?: number;
}

@ApiSchema({
  name: 'RolloutPolicy',
  description:
    'A model’s rollout (its store folder’s `rollout.json`): the stable version answers; a candidate takes `weight` % of the requests (canary) or classifies a copy of `weight` % of them off the response path (shadow).',
})
export class RolloutPolicyDto {
  @ApiPropertyOptional({
    example: '1',
    description: 'The version answering by default (the newest when unset). Set by promotion, not by PUT.',
    readOnly: true,
  })
  stable?: string;

  @ApiPropertyOptional({ example: '2', description: 'The version under trial; absent: stable serves alone.' })
  candidate?: string;

  @ApiProperty({ example: 'shadow', enum: ['canary', 'shadow'], default: 'shadow' })
  mode!: 'canary' | 'shadow';

  @ApiProperty({
    example: 100,
    minimum: 0,
    maximum: 100,
    default: 100,
    description:
      'Percent: of requests routed to the candidate (canary, by X-Routing-Key or the image), or mirrored to it (shadow).',
  })
  weight!: number;

  @ApiPropertyOptional({ type: AutoRollbackDto })
  auto_rollback?: AutoRollbackDto;

  @ApiPropertyOptional({
    example: '1',
    readOnly: true,
    description: 'After a promotion: the version a rollback restores.',
  })
  previous_stable?: string;
}

@ApiSchema({
  name: 'RolloutDisagreement',
  description: 'A pair of top-1 classes the two versions gave one image.',
})
export class DisagreementDto {
  @ApiProperty({ example: 'steak' })
  stable!: string;

  @ApiProperty({ example: 'filet_mignon' })
  candidate!: string;

  @ApiProperty({ example: 4 })
  count!: number;
}

@ApiSchema({ name: 'RolloutComparison', description: 'What both versions answered for the same images.' })
export class ComparisonDto {
  @ApiProperty({ example: 39, description: 'Images classified by both versions.' })
  compared!: number;

  @ApiProperty({
    example: 0.846154,
    nullable: true,
    type: Number,
    description: 'Share with the same top-1 class.',
  })
  agreement!: number | null;

  @ApiProperty({
    example: 0.121,
    nullable: true,
    type: Number,
    description: 'Mean |stable top-1 probability − candidate top-1 probability|.',
  })
  mean_abs_confidence_delta!: number | null;

  @ApiProperty({
    type: [DisagreementDto],
    description: 'The most frequent disagreements, most frequent first.',
  })
  disagreements!: DisagreementDto[];
}

@ApiSchema({ name: 'RolloutComparisons', description: 'By traffic: canary answers, and shadow copies.' })
export class ComparisonsDto {
  @ApiProperty({ type: ComparisonDto, description: 'Candidate answers, each checked by the stable version.' })
  canary!: ComparisonDto;

  @ApiProperty({ type: ComparisonDto, description: 'Stable answers, each mirrored to the candidate.' })
  shadow!: ComparisonDto;
}

@ApiSchema({ name: 'RolloutVersionRuns', description: 'One version’s runs during the rollout.' })
export class VersionRunsDto {
  @ApiProperty({ example: '2' })
  version!: string;

  @ApiProperty({ example: 'candidate', enum: ['stable', 'candidate'] })
  role!: 'stable' | 'candidate';

  @ApiProperty({ example: 52, description: 'Images it classified (answers and comparison runs).' })
  runs!: number;

  @ApiProperty({
    example: 0,
    description: 'Runs that failed on the server’s side (5xx, a full queue excepted).',
  })
  errors!: number;

  @ApiProperty({ example: 0 })
  error_rate!: number;

  @ApiProperty({ example: 3, description: 'Answers under the version’s min_confidence.' })
  abstentions!: number;

  @ApiProperty({ example: 0.057692 })
  abstention_rate!: number;
}

@ApiSchema({ name: 'RolloutCandidate', description: 'The version under trial.' })
export class RolloutCandidateDto {
  @ApiProperty({ example: '2' })
  version!: string;

  @ApiProperty({ example: 'ready', enum: ['loading', 'ready', 'failed'] })
  status!: string;
}

@ApiSchema({ name: 'RolloutRollback', description: 'The last rollback of a candidate.' })
export class LastRollbackDto {
  @ApiProperty({ example: '2026-12-06T15:04:05.000Z' })
  at!: string;

  @ApiProperty({ example: '2' })
  version!: string;

  @ApiProperty({
    example: 'top-1 agreement 0.846 fell below 0.95 after 13 compared images',
  })
  reason!: string;
}

@ApiSchema({
  name: 'RolloutReport',
  description: 'A model’s rollout: policy, versions, and how they compare.',
})
export class RolloutReportDto {
  @ApiProperty({ example: 'food101' })
  model!: string;

  @ApiProperty({
    example: true,
    description: 'False for a model served from one manifest: rollouts need a model store’s version folders.',
  })
  possible!: boolean;

  @ApiProperty({ type: RolloutPolicyDto })
  policy!: RolloutPolicyDto;

  @ApiPropertyOptional({ example: '1' })
  stable?: string;

  @ApiPropertyOptional({ type: RolloutCandidateDto })
  candidate?: RolloutCandidateDto;

  @ApiPropertyOptional({
    example: '2026-12-06T15:00:00.000Z',
    description: 'When this pair’s measurements began.',
  })
  since?: string;

  @ApiProperty({ type: ComparisonsDto })
  comparisons!: ComparisonsDto;

  @ApiProperty({ type: [VersionRunsDto] })
  versions!: VersionRunsDto[];

  @ApiProperty({ example: 0, description: 'Comparison runs shed (background lane full, or the mirror cap).' })
  shed!: number;

  @ApiPropertyOptional({ type: LastRollbackDto })
  last_rollback?: LastRollbackDto;
}
