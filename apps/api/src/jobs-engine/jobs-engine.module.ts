import { Module } from '@nestjs/common';
import { ItemProcessor } from './item-processor';
import { JobsEngine } from './jobs-engine';
import { JobsMetrics } from './jobs-metrics';

/** Bulk jobs apart from HTTP: the store (SQLite or BullMQ on Redis), the item runner, metrics and webhooks. */
@Module({
  providers: [ItemProcessor, JobsMetrics, JobsEngine],
  exports: [JobsEngine],
})
export class JobsEngineModule {}
