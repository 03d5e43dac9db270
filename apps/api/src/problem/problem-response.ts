import type { Response } from 'express';
import { problemTypeUri, type ProblemError } from '@app/problem';
import { traceIdOf } from '../observability/tracing/server-spans';
import type { ProblemDetailsDto } from './problem-details.dto';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** The RFC 9457 body of a ProblemError (Retry-After travels as a header, not in the body). */
export function problemBody(
  error: ProblemError,
  instance: string,
  requestId?: string,
  traceId?: string,
): ProblemDetailsDto {
  const { retry_after_seconds: _retryAfter, ...extensions } = error.extensions;
  return {
    type: problemTypeUri(error.code),
    title: error.title,
    status: error.status,
    detail: error.detail,
    code: error.code,
    instance,
    ...(requestId !== undefined ? { request_id: requestId } : {}),
    ...(traceId !== undefined ? { trace_id: traceId } : {}),
    ...extensions,
  };
}

/** Writes a ProblemError as an RFC 9457 body; 503s and 429s carry Retry-After. */
export function sendProblem(response: Response, error: ProblemError, instance: string): void {
  const retryAfter = error.extensions.retry_after_seconds;
  // Set by the access-log middleware (pino-http) from X-Request-Id; lets a client quote it in a support request.
  const requestId = (response.req as { id?: unknown } | undefined)?.id;
  if (typeof retryAfter === 'number') response.setHeader('Retry-After', String(retryAfter));
  response
    .status(error.status)
    .type(PROBLEM_CONTENT_TYPE)
    .send(
      JSON.stringify(
        problemBody(
          error,
          instance,
          typeof requestId === 'string' ? requestId : undefined,
          traceIdOf(response.req),
        ),
      ),
    );
}
