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

  constructor(private readonly shutdown: ShutdownState) {}

  get count(): number {
    return this.active;
  }

  readonly middleware = (_request: Request, response: Response, next: NextFunction): void => {
    this.active++;
    if (this.shutdown.draining) response.setHeader('Connection', 'close');
    response.once('close', () => this.active--);
    next();
  };
}
