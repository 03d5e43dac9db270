import { describe, expect, it } from 'vitest';
import { FORBIDDEN_ADDRESSES, PUBLIC_ADDRESSES } from '../../../../test/support/attack-catalogue';
import { allowlistEntryError, HostAllowlist, isPublicAddress, parseAddress } from './address-policy';

const judge = (text: string): boolean => {
  const address = parseAddress(text);
  if (!address) throw new Error(`not an address: ${text}`);
  return isPublicAddress(address);
};

describe('isPublicAddress', () => {
  it.each(FORBIDDEN_ADDRESSES)('refuses %s (%s)', (address) => {
    expect(judge(address)).toBe(false);
  });

  it.each(PUBLIC_ADDRESSES)('allows the public address %s', (address) => {
    expect(judge(address)).toBe(true);
  });
});

describe('parseAddress', () => {
  it('unwraps IPv4-mapped IPv6 to the IPv4 address it carries', () => {
    expect(parseAddress('[::ffff:7f00:1]')?.toString()).toBe('127.0.0.1');
  });

  it('does not treat host names as addresses', () => {
    expect(parseAddress('example.com')).toBeUndefined();
  });
});

describe('HostAllowlist', () => {
  it('allows exact names (case and trailing dot ignored), addresses and CIDR ranges', () => {
    const allowlist = new HostAllowlist(['Images.Internal', '127.0.0.1', '10.1.2.0/24', 'fd12::/16']);
    expect(allowlist.allowsName('images.internal.')).toBe(true);
    expect(allowlist.allowsName('cdn.images.internal')).toBe(false);
    expect(allowlist.allowsAddress(parseAddress('127.0.0.1')!)).toBe(true);
    expect(allowlist.allowsAddress(parseAddress('127.0.0.2')!)).toBe(false);
    expect(allowlist.allowsAddress(parseAddress('::1')!)).toBe(false);
    expect(allowlist.allowsAddress(parseAddress('10.1.2.200')!)).toBe(true);
    expect(allowlist.allowsAddress(parseAddress('10.1.3.1')!)).toBe(false);
    expect(allowlist.allowsAddress(parseAddress('fd12:3::1')!)).toBe(true);
  });

  it('reads an IPv4-mapped CIDR as the IPv4 range it means', () => {
    const allowlist = new HostAllowlist(['::ffff:10.0.0.0/104']);
    expect(allowlist.allowsAddress(parseAddress('10.200.0.1')!)).toBe(true);
  });

  it('is empty by default', () => {
    expect(new HostAllowlist([]).isEmpty).toBe(true);
  });

  it('rejects entries that are neither names, addresses nor ranges', () => {
    expect(allowlistEntryError('10.0.0.0/99')).toBeDefined();
    expect(allowlistEntryError('*.example.com')).toBeDefined();
    expect(allowlistEntryError('http://example.com')).toBeDefined();
    expect(allowlistEntryError('images.internal')).toBeUndefined();
  });
});
