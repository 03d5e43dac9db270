import { Module } from '@nestjs/common';
import { systemResolver } from '@app/image-fetch';
import { PredictionLogMetrics } from './prediction-log-metrics';
import { PredictionLog, SINK_RESOLVER } from './prediction-log.service';

/** The opt-in prediction log (CloudEvents to a sink) and low-confidence capture, fed by the data plane. */
@Module({
  providers: [PredictionLog, PredictionLogMetrics, { provide: SINK_RESOLVER, useValue: systemResolver }],
})
export class PredictionLogModule {}
