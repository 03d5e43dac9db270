import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { MulterModule } from '@nestjs/platform-express';
import type { EnvironmentVariables } from '../config/environment';
import { BatchPredictionService } from './batch-prediction.service';
import { BatchPredictionsController } from './batch-predictions.controller';
import { PredictionsController } from './predictions.controller';

@Module({
  imports: [
    MulterModule.registerAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService<EnvironmentVariables, true>) => ({
        limits: { fileSize: config.get('MAX_IMAGE_BYTES'), files: 1, fields: 8, fieldSize: 64 * 1024 },
      }),
    }),
  ],
  controllers: [PredictionsController, BatchPredictionsController],
  providers: [BatchPredictionService],
})
export class PredictionsModule {}
