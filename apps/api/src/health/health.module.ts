import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { ShutdownIndicator } from '../lifecycle/shutdown.indicator';
import { HealthController } from './health.controller';
import { ModelReadinessIndicator } from './model-readiness.indicator';

@Module({
  imports: [TerminusModule.forRoot({ logger: false })],
  controllers: [HealthController],
  providers: [ModelReadinessIndicator, ShutdownIndicator],
})
export class HealthModule {}
