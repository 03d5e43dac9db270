import { type ArgumentsHost, Catch, type ExceptionFilter } from '@nestjs/common';
import type { Request, Response } from 'express';
import { sendV2Failure, toV2Failure } from './v2-errors';

/** Scoped to the V2 controller: its errors (guards and validation included) in the protocol's `{"error"}` form. */
@Catch()
export class V2ErrorFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const response = http.getResponse<Response>();
    if (response.headersSent) {
      response.end();
      return;
    }
    sendV2Failure(response, toV2Failure(exception, http.getRequest<Request>()));
  }
}
