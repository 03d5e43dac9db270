import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';

@ApiSchema({ name: 'MonitoringWindow', description: 'The recent answers drift is judged on.' })
export class MonitoringWindowDto {
  @ApiProperty({ example: 200, description: 'Answers in the window now.' })
  predictions!: number;

  @ApiProperty({ example: 200, description: 'DRIFT_WINDOW_SIZE: the most recent answers kept.' })
  max_predictions!: number;

  @ApiProperty({ example: 3600, description: 'DRIFT_WINDOW_SECONDS: older answers leave the window.' })
  max_seconds!: number;
}

@ApiSchema({
  name: 'DriftScores',
  description:
    'Jensen–Shannon divergences (base 2: 0 the same, 1 nothing in common) of the window from the reference.',
})
export class DriftScoresDto {
  @ApiProperty({ example: 0.04, description: 'Of the top-1 confidence distribution.' })
  confidence!: number;

  @ApiProperty({ example: 0.12, description: 'Of the class mix.' })
  class_mix!: number;
}

@ApiSchema({
  name: 'MonitoringReference',
  description: 'The reference profile the answers are compared with.',
})
export class MonitoringReferenceDto {
  @ApiProperty({ example: 'reference-profile.json' })
  file!: string;

  @ApiProperty({ example: 13, description: 'Photos it was made from.' })
  photos!: number;

  @ApiProperty({ example: '../shared/images/food' })
  folder!: string;

  @ApiProperty({ example: 0.923, description: 'The model’s accuracy on them.' })
  accuracy!: number;
}

@ApiSchema({
  name: 'Monitoring',
  description:
    'Drift of the served version: its recent answers against its reference profile (`npm run model:profile`). See docs/monitoring.md.',
})
export class MonitoringDto {
  @ApiProperty({ enum: ['ok', 'drifting', 'warming_up', 'no_reference'], example: 'ok' })
  status!: string;

  @ApiProperty({ example: 'The recent answers look like the reference.' })
  reason!: string;

  @ApiProperty({ type: MonitoringWindowDto })
  window!: MonitoringWindowDto;

  @ApiPropertyOptional({ type: DriftScoresDto, description: 'Present once the window holds enough answers.' })
  scores?: DriftScoresDto;

  @ApiProperty({
    type: DriftScoresDto,
    description: 'DRIFT_CONFIDENCE_THRESHOLD and DRIFT_CLASS_MIX_THRESHOLD.',
  })
  thresholds!: DriftScoresDto;

  @ApiPropertyOptional({ type: MonitoringReferenceDto })
  reference?: MonitoringReferenceDto;
}
