import { Module } from '@nestjs/common';
import { GrpcFrontEnd } from './grpc-front-end';
import { GrpcMetrics } from './grpc-metrics';

/** The gRPC front-end; main.ts starts it on GRPC_PORT after the HTTP server listens. */
@Module({
  providers: [GrpcFrontEnd, GrpcMetrics],
  exports: [GrpcFrontEnd],
})
export class GrpcModule {}
