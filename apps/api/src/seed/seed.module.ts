import { Module } from '@nestjs/common';
import { PredictionsModule } from '../predictions/predictions.module';
import { SeedController } from './seed.controller';

/** The original FastAPI service's routes (`GET /`, `POST /net/image/prediction/`), over the /v1 prediction service. */
@Module({
  imports: [PredictionsModule],
  controllers: [SeedController],
})
export class SeedModule {}
