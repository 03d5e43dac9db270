import { Module } from '@nestjs/common';
import { JobsEngineModule } from '../jobs-engine/jobs-engine.module';
import { JobIntakeService } from './job-intake.service';
import { JobsController } from './jobs.controller';

/** `/v1/jobs`: bulk jobs over HTTP (the engine that runs them is `jobs-engine/`). */
@Module({
  imports: [JobsEngineModule],
  controllers: [JobsController],
  providers: [JobIntakeService],
})
export class JobsModule {}
