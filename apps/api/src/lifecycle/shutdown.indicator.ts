import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { ShutdownState } from './shutdown-state';

/** Down from the moment SIGTERM/SIGINT arrives, so readiness turns 503 before in-flight requests finish. */
@Injectable()
export class ShutdownIndicator {
  constructor(
    private readonly shutdown: ShutdownState,
    private readonly indicators: HealthIndicatorService,
  ) {}

  check(key = 'lifecycle'): HealthIndicatorResult {
    const indicator = this.indicators.check(key);
    if (!this.shutdown.draining) return indicator.up();
    return indicator.down({
      reason: `The service is shutting down (${this.shutdown.reason}); send requests to another instance.`,
    });
  }
}
