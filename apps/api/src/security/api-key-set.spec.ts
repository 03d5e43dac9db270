import { describe, expect, it } from 'vitest';
import { ApiKeySet, presentedApiKey } from './api-key-set';

describe('ApiKeySet', () => {
  const keys = new ApiKeySet(['first-key-0123456789', 'second-key-abcdefghij']);

  it('accepts each configured key and nothing else', () => {
    expect(keys.enabled).toBe(true);
    expect(keys.matches('first-key-0123456789')).toBe(true);
    expect(keys.matches('second-key-abcdefghij')).toBe(true);
    expect(keys.matches('first-key-012345678')).toBe(false);
    expect(keys.matches('first-key-0123456789 ')).toBe(false);
    expect(keys.matches('FIRST-KEY-0123456789')).toBe(false);
    expect(keys.matches('')).toBe(false);
    expect(keys.matches('x'.repeat(10_000))).toBe(false);
  });

  it('is disabled with no keys, and then matches nothing', () => {
    const none = new ApiKeySet([]);
    expect(none.enabled).toBe(false);
    expect(none.matches('')).toBe(false);
  });
});

describe('presentedApiKey', () => {
  it('reads X-API-Key first, then Authorization: Bearer', () => {
    expect(presentedApiKey({ 'x-api-key': 'k1', authorization: 'Bearer k2' })).toBe('k1');
    expect(presentedApiKey({ authorization: 'Bearer k2' })).toBe('k2');
    expect(presentedApiKey({ authorization: 'bearer   k3 ' })).toBe('k3');
  });

  it('ignores other schemes and malformed headers', () => {
    expect(presentedApiKey({})).toBeUndefined();
    expect(presentedApiKey({ authorization: 'Basic dXNlcjpwYXNz' })).toBeUndefined();
    expect(presentedApiKey({ authorization: 'Bearer' })).toBeUndefined();
    expect(presentedApiKey({ authorization: 'Bearer two tokens' })).toBeUndefined();
    expect(presentedApiKey({ 'x-api-key': '' })).toBeUndefined();
  });
});
