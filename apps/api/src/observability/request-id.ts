import { randomUUID } from 'node:crypto';

export const REQUEST_ID_HEADER = 'X-Request-Id';

/** Short enough for a log field, and only characters that cannot forge a log line or a header. */
const ACCEPTABLE_REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** The id the access logger gave the request (pino-http's `req.id`), if it has one. */
export function requestIdOf(request: object): string | undefined {
  const id = (request as { id?: unknown }).id;
  return typeof id === 'string' ? id : undefined;
}

/** The caller's X-Request-Id when it is safe to reuse (≤128 of [A-Za-z0-9._-]), otherwise a new UUID. */
export function resolveRequestId(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value !== undefined && ACCEPTABLE_REQUEST_ID.test(value) ? value : randomUUID();
}
