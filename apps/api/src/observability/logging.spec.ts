import { afterEach, describe, expect, it } from 'vitest';
import { wantsPrettyLogs } from './logging';
import { resolveRequestId } from './request-id';

describe('wantsPrettyLogs', () => {
  const original = process.stdout.isTTY;
  afterEach(() => {
    process.stdout.isTTY = original;
  });

  it('pretty-prints for a developer at a terminal, never in production or when piped', () => {
    process.stdout.isTTY = true;
    expect(wantsPrettyLogs({})).toBe(true);
    expect(wantsPrettyLogs({ NODE_ENV: 'development' })).toBe(true);
    expect(wantsPrettyLogs({ NODE_ENV: 'production' })).toBe(false);
    process.stdout.isTTY = false;
    expect(wantsPrettyLogs({})).toBe(false);
  });
});

describe('resolveRequestId', () => {
  it('keeps a safe caller id and replaces anything else with a UUID', () => {
    expect(resolveRequestId('abc-123_X.y')).toBe('abc-123_X.y');
    expect(resolveRequestId(['first', 'second'])).toBe('first');
    expect(resolveRequestId('a'.repeat(128))).toBe('a'.repeat(128));
    for (const unsafe of [undefined, '', 'a'.repeat(129), 'with space', 'line\nbreak', '{"json":1}', 'ü']) {
      expect(resolveRequestId(unsafe)).toMatch(/^[0-9a-f-]{36}$/);
    }
  });
});
