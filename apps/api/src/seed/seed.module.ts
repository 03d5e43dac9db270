import { Module } from '@nestjs/common';
import { SeedController } from './seed.controller';

/** The original FastAPI service's routes (`GET /`, `POST /net/image/prediction/`), over the data plane. */
@Module({
  controllers: [SeedController],
})
export class SeedModule {}
