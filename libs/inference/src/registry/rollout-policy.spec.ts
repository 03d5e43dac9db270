import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { canaryBucket } from './routing-key';
import { parseRolloutPolicy, readRolloutPolicy, writeRolloutPolicy } from './rollout-policy';

const folders: string[] = [];
const folder = () => {
  const made = mkdtempSync(join(tmpdir(), 'rollout-policy-'));
  folders.push(made);
  return made;
};
afterEach(() => folders.splice(0).forEach((made) => rmSync(made, { recursive: true, force: true })));

describe('rollout.json', () => {
  it('fills the defaults: shadow, every request mirrored', () => {
    expect({ ...parseRolloutPolicy({ candidate: '2' }, 'test') }).toEqual({
      candidate: '2',
      mode: 'shadow',
      weight: 100,
    });
  });

  it.each([
    [{ mode: 'sideways' }, /mode/],
    [{ weight: 120 }, /weight/],
    [{ candidate: '' }, /candidate/],
    [{ auto_rollback: { min_agreement: 0.9 } }, /min_compared/],
    [{ surprise: true }, /surprise/],
    [[], /JSON object/],
  ])('refuses %j, naming the field', (raw, message) => {
    expect(() => parseRolloutPolicy(raw, 'rollout.json')).toThrow(message);
  });

  it('writes whole files that read back the same, and reads none when absent', () => {
    const dir = folder();
    expect(readRolloutPolicy(dir)).toBeUndefined();
    const policy = parseRolloutPolicy(
      { stable: '1', candidate: '2', mode: 'canary', weight: 20, auto_rollback: { min_compared: 50 } },
      'test',
    );
    writeRolloutPolicy(dir, policy);
    expect(JSON.parse(readFileSync(join(dir, 'rollout.json'), 'utf8'))).toEqual({
      stable: '1',
      candidate: '2',
      mode: 'canary',
      weight: 20,
      auto_rollback: { min_compared: 50 },
    });
    expect(readRolloutPolicy(dir)).toEqual(policy);
    writeFileSync(join(dir, 'rollout.json'), '{ not json');
    expect(() => readRolloutPolicy(dir)).toThrow(/not JSON/);
  });
});

describe('canaryBucket', () => {
  it('places a key always at the same point in 0..100', () => {
    expect(canaryBucket('user-42')).toBe(canaryBucket('user-42'));
    for (const key of ['a', 'user-1', 'https://example.com/x.jpg']) {
      expect(canaryBucket(key)).toBeGreaterThanOrEqual(0);
      expect(canaryBucket(key)).toBeLessThan(100);
    }
  });

  it('spreads sequential keys evenly: each tenth of the range within a 99.9 % binomial bound', () => {
    const counts = Array.from({ length: 10 }, () => 0);
    const n = 20_000;
    for (let index = 0; index < n; index++) counts[Math.floor(canaryBucket(`key-${index}`) / 10)]++;
    const sd = Math.sqrt(n * 0.1 * 0.9);
    for (const count of counts) expect(Math.abs(count - n / 10)).toBeLessThan(3.3 * sd);
  });
});
