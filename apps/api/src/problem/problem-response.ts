import type { Response } from 'express';
import { problemTypeUri, type ProblemError } from '@app/problem';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** Writes a ProblemError as an RFC 9457 body; 503s and 429s carry Retry-After. */
export function sendProblem(response: Response, error: ProblemError, instance: string): void {
  const { retry_after_seconds: retryAfter, ...extensions } = error.extensions;
  // Set by the access-log middleware (pino-http) from X-Request-Id; lets a client quote it in a support request.
  const requestId = (response.req as { id?: unknown } | undefined)?.id;
  if (typeof retryAfter === 'number') response.setHeader('Retry-After', String(retryAfter));
  response
    .status(error.status)
    .type(PROBLEM_CONTENT_TYPE)
    .send(
      JSON.stringify({
        type: problemTypeUri(error.code),
        title: error.title,
        status: error.status,
        detail: error.detail,
        code: error.code,
        instance,
        ...(typeof requestId === 'string' ? { request_id: requestId } : {}),
        ...extensions,
      }),
    );
}
