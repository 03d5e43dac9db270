import { Global, Module } from '@nestjs/common';
import { InFlightRequests } from './in-flight-requests';
import { ShutdownState } from './shutdown-state';

@Global()
@Module({
  providers: [ShutdownState, InFlightRequests],
  exports: [ShutdownState, InFlightRequests],
})
export class LifecycleModule {}
