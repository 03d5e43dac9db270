import { createHash } from 'node:crypto';
import type { Request } from 'express';
import { presentedApiKey } from '../security/api-key-set';

/**
 * Whose job this is: with API_KEYS set, a digest of the key the guard accepted (each key sees and counts only
 * its own jobs); with the API open, everyone is `anonymous`.
 */
export function jobOwner(request: Request, keysEnabled: boolean): string {
  if (!keysEnabled) return 'anonymous';
  const key = presentedApiKey(request.headers);
  return key === undefined
    ? 'anonymous'
    : `key:${createHash('sha256').update(key, 'utf8').digest('hex').slice(0, 32)}`;
}
