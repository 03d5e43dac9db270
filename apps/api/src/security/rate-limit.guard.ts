import { type ExecutionContext, Injectable } from '@nestjs/common';
import { ThrottlerGuard, type ThrottlerLimitDetail } from '@nestjs/throttler';
import { problem } from '@app/problem';

/** Over RATE_LIMIT_PER_MINUTE: a `rate_limited` problem with Retry-After instead of the throttler's plain 429. */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  protected override throwThrottlingException(
    _context: ExecutionContext,
    detail: ThrottlerLimitDetail,
  ): Promise<void> {
    return Promise.reject(
      problem(
        'rate_limited',
        `This client sent more than ${detail.limit} requests in ${detail.ttl / 1000} s: wait for the Retry-After seconds, then retry.`,
        { retry_after_seconds: detail.timeToBlockExpire },
      ),
    );
  }
}
