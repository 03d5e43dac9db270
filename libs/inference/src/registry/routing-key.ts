import { createHash } from 'node:crypto';

/**
 * A routing key's place in 0..100 (two decimals): a canary of weight w takes the keys below w. The same key always
 * lands in the same place, so a client's retries, and a batch, meet the same version; sha256 spreads any keys
 * evenly, whatever they look like (sequential ids, URLs).
 */
export function canaryBucket(key: string): number {
  return (createHash('sha256').update(key).digest().readUInt32BE(0) % 10_000) / 100;
}
