import { Module } from '@nestjs/common';
import { ModelsController } from './models.controller';
import { MonitoringController } from './monitoring.controller';
import { RolloutController } from './rollout.controller';

@Module({ controllers: [ModelsController, MonitoringController, RolloutController] })
export class ModelsModule {}
