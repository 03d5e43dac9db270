import ipaddr from 'ipaddr.js';

type Address = ipaddr.IPv4 | ipaddr.IPv6;

/** Parses an IP literal; IPv4-mapped IPv6 (`::ffff:7f00:1`) becomes the IPv4 address it carries. */
export function parseAddress(text: string): Address | undefined {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  if (!ipaddr.isValid(bare)) return undefined;
  const address = ipaddr.parse(bare);
  if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()) {
    return (address as ipaddr.IPv6).toIPv4Address();
  }
  return address;
}

/**
 * Only globally routable unicast addresses may be fetched. ipaddr.js names every special range (private,
 * loopback, linkLocal incl. 169.254.169.254, carrierGradeNat, uniqueLocal, multicast, broadcast, unspecified,
 * reserved incl. benchmarking/documentation, 6to4, teredo, rfc6052/rfc6145 NAT64, ipv4Mapped...); anything not
 * `unicast` is refused. IPv4-compatible (`::7f00:1`) and IPv4-embedding forms are judged by the IPv4 they carry.
 */
export function isPublicAddress(address: Address): boolean {
  if (address.kind() === 'ipv4') return address.range() === 'unicast';
  const v6 = address as ipaddr.IPv6;
  const parts = v6.parts;
  // ::a.b.c.d (deprecated IPv4-compatible): the first 96 bits are zero.
  if (parts.slice(0, 6).every((part) => part === 0)) return false;
  return v6.range() === 'unicast';
}

/** The operator's allowlist: host names (exact, case-insensitive), IP addresses and CIDR ranges. */
export class HostAllowlist {
  private readonly names = new Set<string>();
  private readonly ranges: Array<[Address, number]> = [];

  constructor(entries: readonly string[]) {
    for (const raw of entries) {
      const entry = raw.trim().toLowerCase();
      if (!entry) continue;
      if (entry.includes('/')) {
        const [address, bits] = ipaddr.parseCIDR(entry);
        this.ranges.push([address, bits]);
      } else {
        const address = parseAddress(entry);
        if (address) this.ranges.push([address, address.kind() === 'ipv4' ? 32 : 128]);
        else this.names.add(entry.replace(/\.$/, ''));
      }
    }
  }

  allowsName(hostname: string): boolean {
    return this.names.has(hostname.toLowerCase().replace(/\.$/, ''));
  }

  allowsAddress(address: Address): boolean {
    return this.ranges.some(([range, bits]) => range.kind() === address.kind() && address.match(range, bits));
  }
}

/** Validates an allowlist entry (for configuration checks); returns an error text or undefined. */
export function allowlistEntryError(entry: string): string | undefined {
  try {
    new HostAllowlist([entry]);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
