import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { ProblemError, type ProblemCode } from '@app/problem';

/**
 * Problem codes as gRPC status codes, as KServe's and Triton's gRPC servers use them: bad requests
 * INVALID_ARGUMENT, unknown models NOT_FOUND, not ready / busy / shutting down UNAVAILABLE (retryable, with a
 * hint), oversized data RESOURCE_EXHAUSTED (grpc-js's own code for a message over the size limit).
 */
const BY_CODE: Partial<Record<ProblemCode, status>> = {
  unauthorized: status.UNAUTHENTICATED,
  not_found: status.NOT_FOUND,
  model_not_found: status.NOT_FOUND,
  model_version_not_found: status.NOT_FOUND,
  too_large: status.RESOURCE_EXHAUSTED,
  payload_too_large: status.RESOURCE_EXHAUSTED,
  rate_limited: status.RESOURCE_EXHAUSTED,
  client_closed_request: status.CANCELLED,
  model_not_ready: status.UNAVAILABLE,
  model_loading: status.UNAVAILABLE,
  overloaded: status.UNAVAILABLE,
  inference_timeout: status.UNAVAILABLE,
  shutting_down: status.UNAVAILABLE,
  model_reload_failed: status.INTERNAL,
  internal_error: status.INTERNAL,
};

function codeFor(error: ProblemError): status {
  const mapped = BY_CODE[error.code as ProblemCode];
  if (mapped !== undefined) return mapped;
  if (error.status >= 400 && error.status < 500) return status.INVALID_ARGUMENT;
  if (error.status === 503) return status.UNAVAILABLE;
  return status.INTERNAL;
}

/** Trailing metadata of a failed call: the problem code, and the retry hint of an UNAVAILABLE one. */
export const PROBLEM_CODE_KEY = 'food-vision-problem-code';
export const RETRY_AFTER_KEY = 'retry-after';
/** gRPC's retry pushback (A6, client retries): how long to wait before retrying, in milliseconds. */
export const RETRY_PUSHBACK_KEY = 'grpc-retry-pushback-ms';

export type GrpcFailure = Partial<ServiceError> & { code: status; details: string; metadata: Metadata };

/** A thrown error as the status to end the call with; anything but a ProblemError is INTERNAL with a generic message. */
export function toGrpcFailure(error: unknown): GrpcFailure {
  const metadata = new Metadata();
  if (!(error instanceof ProblemError)) {
    metadata.set(PROBLEM_CODE_KEY, 'internal_error');
    return {
      code: status.INTERNAL,
      details: 'The server failed to handle this call; it has been logged.',
      metadata,
    };
  }
  metadata.set(PROBLEM_CODE_KEY, error.code);
  const code = codeFor(error);
  const retry = error.extensions.retry_after_seconds;
  let details = error.detail;
  if (code === status.UNAVAILABLE && typeof retry === 'number') {
    metadata.set(RETRY_AFTER_KEY, String(retry));
    metadata.set(RETRY_PUSHBACK_KEY, String(Math.round(retry * 1000)));
    if (!/retry/i.test(details)) details = `${details} Retry in ${retry} s.`;
  }
  return { code, details, metadata };
}
