import { HttpException, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ProblemError } from '@app/problem';
import { JsonTooDeepError, jsonTooDeep } from '../http/json-depth';

export interface V2Failure {
  status: number;
  error: string;
  retryAfterSeconds?: number;
}

interface BodyParserError extends Error {
  type?: string;
  limit?: number;
}

const logger = new Logger('OpenInferenceProtocol');

/** A protocol health answer of "no": a 4xx (the protocol's rule for false) with the reason. */
export function notReady(reason: string): ProblemError {
  return new ProblemError(400, 'not_ready', 'Not ready', reason);
}

/** Any failure under /v2 as the protocol's error: a status and one message that says what to do. */
export function toV2Failure(exception: unknown, request: Request): V2Failure {
  if (exception instanceof ProblemError) {
    const retry = exception.extensions.retry_after_seconds;
    return {
      status: exception.status,
      error: exception.detail,
      ...(typeof retry === 'number' ? { retryAfterSeconds: retry } : {}),
    };
  }
  const parserError = exception as BodyParserError | undefined;
  if (exception instanceof JsonTooDeepError) {
    return { status: 400, error: jsonTooDeep(exception.maxDepth).detail };
  }
  switch (parserError?.type) {
    case 'entity.too.large':
      return {
        status: 413,
        error: `The request body is larger than this service accepts (${parserError.limit} bytes): send fewer images per request, or BYTES (encoded files) instead of FP32 tensors.`,
      };
    case 'entity.parse.failed':
      return { status: 400, error: 'The request body is not valid JSON.' };
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return { status: 415, error: 'The request body encoding is not supported; send UTF-8 JSON.' };
  }
  if (exception instanceof HttpException) {
    if (exception.getStatus() === 404) return notFound(request);
    return { status: exception.getStatus(), error: exception.message };
  }
  logger.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
  return { status: 500, error: 'The server failed to handle this request; it has been logged.' };
}

export function notFound(request: Request): V2Failure {
  return {
    status: 404,
    error: `There is no ${request.method} ${request.originalUrl.split('?')[0]} in the Open Inference Protocol API; GET /v2 describes the server, GET /v2/models/{name} a model.`,
  };
}

/** `{"error": "..."}` as application/json, the protocol's error object (never problem+json). */
export function sendV2Failure(response: Response, failure: V2Failure): void {
  if (failure.retryAfterSeconds !== undefined)
    response.setHeader('Retry-After', String(failure.retryAfterSeconds));
  response.status(failure.status).json({ error: failure.error });
}
