import { Injectable } from '@nestjs/common';

/** Whether the process has been asked to stop; readiness reads it so load balancers stop sending traffic at once. */
@Injectable()
export class ShutdownState {
  private signal?: string;

  get draining(): boolean {
    return this.signal !== undefined;
  }

  get reason(): string | undefined {
    return this.signal;
  }

  begin(signal: string): void {
    this.signal ??= signal;
  }
}
