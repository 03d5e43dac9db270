import { Global, Module } from '@nestjs/common';
import { Registry } from 'prom-client';
import { HttpMetrics } from './http-metrics';
import { InferenceQueueMetrics } from './inference-queue-metrics';
import { MetricsController } from './metrics.controller';
import { createMetricsRegistry } from './metrics-registry';
import { ModelMetrics } from './model-metrics';
import { PredictionMetrics } from './prediction-metrics';

/** `GET /metrics` and the collectors the rest of the app records into. */
@Global()
@Module({
  controllers: [MetricsController],
  providers: [
    { provide: Registry, useFactory: createMetricsRegistry },
    HttpMetrics,
    PredictionMetrics,
    ModelMetrics,
    InferenceQueueMetrics,
  ],
  exports: [Registry, HttpMetrics, PredictionMetrics],
})
export class MetricsModule {}
