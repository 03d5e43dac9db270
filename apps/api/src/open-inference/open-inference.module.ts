import { Module, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { NextFunction, Request, Response } from 'express';
import { notFound, sendV2Failure, toV2Failure } from './v2-errors';
import { OpenInferenceController } from './open-inference.controller';

@Module({
  controllers: [OpenInferenceController],
})
export class OpenInferenceModule implements OnModuleInit {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  /**
   * Nest registers the routes before this hook and its own not-found and error handlers after it, so these two
   * catch what never reaches OpenInferenceController under /v2: body-parser errors (bad JSON, too large) and unknown paths,
   * answered in the protocol's `{"error"}` form instead of problem+json.
   */
  onModuleInit(): void {
    const http = this.adapterHost.httpAdapter;
    http.use('/v2', (error: unknown, request: Request, response: Response, _next: NextFunction) =>
      sendV2Failure(response, toV2Failure(error, request)),
    );
    http.use('/v2', (request: Request, response: Response) => sendV2Failure(response, notFound(request)));
  }
}
