import { Global, Module } from '@nestjs/common';
import { Registry } from 'prom-client';
import { HttpMetrics } from './http-metrics';
import { MetricsController } from './metrics.controller';
import { createMetricsRegistry } from './metrics-registry';

/** `GET /metrics`, its registry, and the HTTP metrics (the data plane registers its own). */
@Global()
@Module({
  controllers: [MetricsController],
  providers: [{ provide: Registry, useFactory: createMetricsRegistry }, HttpMetrics],
  exports: [Registry, HttpMetrics],
})
export class MetricsModule {}
