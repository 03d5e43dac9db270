import { Module } from '@nestjs/common';
import { InferenceDataPlane } from './inference-data-plane';

/** The Open Inference Protocol data plane, for the front-ends that speak the protocol (REST under /v2, gRPC). */
@Module({
  providers: [InferenceDataPlane],
  exports: [InferenceDataPlane],
})
export class DataPlaneModule {}
