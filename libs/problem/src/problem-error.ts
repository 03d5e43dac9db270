/**
 * A failure that maps to an RFC 9457 problem: libraries throw it without knowing about HTTP frameworks,
 * and the API's exception filter renders it as `application/problem+json`.
 */
export class ProblemError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly title: string,
    readonly detail: string,
    readonly extensions: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(detail, options);
    this.name = 'ProblemError';
  }
}
