import { describe, expect, it } from 'vitest';
import { backoffDelay, retryAfterMs, SEND_BACKOFF } from './backoff';

describe('backoff between tries', () => {
  it('doubles its ceiling each retry up to the cap, and draws the delay under it (full jitter)', () => {
    const policy = { baseMs: 100, maxMs: 1_000 };
    const almostOne = () => 0.999_999;
    expect([0, 1, 2, 3, 4, 10].map((retry) => backoffDelay(retry, policy, almostOne))).toEqual([
      99, 199, 399, 799, 999, 999,
    ]);
    expect(backoffDelay(3, policy, () => 0)).toBe(0);
    expect(backoffDelay(2, policy, () => 0.5)).toBe(200);
  });

  it('spreads the delays of senders that failed together', () => {
    const delays = Array.from({ length: 200 }, () => backoffDelay(3, SEND_BACKOFF));
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...delays)).toBeLessThan(800);
    expect(new Set(delays).size).toBeGreaterThan(100);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2026-05-01T10:00:00Z');
    expect(retryAfterMs('3', now)).toBe(3_000);
    expect(retryAfterMs('Fri, 01 May 2026 10:00:02 GMT', now)).toBe(2_000);
    expect(retryAfterMs('Fri, 01 May 2026 09:00:00 GMT', now)).toBe(0);
    expect(retryAfterMs(undefined, now)).toBeUndefined();
    expect(retryAfterMs('soon', now)).toBeUndefined();
  });
});
