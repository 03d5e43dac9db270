import { createHash } from 'node:crypto';
import type { Request } from 'express';
import { type ApiKeySet, presentedApiKey } from './api-key-set';

/**
 * Who a request counts against: its API key when keys are required (the key guard has already accepted it, and
 * the key itself never becomes a storage key, only a digest), otherwise the client address (`req.ip`, which
 * honours TRUST_PROXY_HOPS).
 */
export function rateLimitTracker(keys: ApiKeySet): (request: Record<string, unknown>) => string {
  return (raw) => {
    const request = raw as unknown as Request;
    const key = keys.enabled ? presentedApiKey(request.headers) : undefined;
    if (key !== undefined) return `key:${createHash('sha256').update(key).digest('hex').slice(0, 32)}`;
    return `ip:${request.ip ?? request.socket?.remoteAddress ?? 'unknown'}`;
  };
}
