/** Delays between the tries of one send. */
export interface BackoffPolicy {
  /** The first retry waits up to this. */
  baseMs: number;
  /** No retry waits longer (Retry-After included). */
  maxMs: number;
}

export const SEND_BACKOFF: BackoffPolicy = { baseMs: 100, maxMs: 5_000 };

/**
 * Exponential backoff with full jitter: before retry `retry` (0 for the first), a delay drawn uniformly from
 * [0, min(maxMs, baseMs × 2^retry)). Jitter keeps many senders that failed together from retrying together.
 */
export function backoffDelay(
  retry: number,
  policy: BackoffPolicy,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** retry);
  return Math.floor(random() * ceiling);
}

/** A Retry-After header (seconds, or an HTTP date) as milliseconds from `now`; undefined when absent or invalid. */
export function retryAfterMs(header: string | undefined, now: number = Date.now()): number | undefined {
  if (header === undefined || header.trim() === '') return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
