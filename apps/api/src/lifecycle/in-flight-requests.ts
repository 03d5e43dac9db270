import { Injectable } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { ShutdownState } from './shutdown-state';

/**
 * Counts the requests being answered, so shutdown can wait for them; while draining, each answer carries
 * `Connection: close` so keep-alive clients reconnect elsewhere instead of reusing a socket that is about to go.
 */
@Injectable()
export class InFlightRequests {
  private active = 0;
  private waiters: Array<() => void> = [];

  constructor(private readonly shutdown: ShutdownState) {}

  get count(): number {
    return this.active;
  }

  readonly middleware = (_request: Request, response: Response, next: NextFunction): void => {
    this.active++;
    if (this.shutdown.draining) response.setHeader('Connection', 'close');
    response.once('close', () => {
      this.active--;
      if (this.active === 0) this.waiters.splice(0).forEach((wake) => wake());
    });
    next();
  };

  /** Resolves true once no request is in flight, or false when `timeoutMs` passes first. */
  idle(timeoutMs: number): Promise<boolean> {
    if (this.active === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((waiter) => waiter !== wake);
        resolve(false);
      }, timeoutMs);
      const wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
      this.waiters.push(wake);
    });
  }
}
