import ipaddr from 'ipaddr.js';

export type IpAddress = ipaddr.IPv4 | ipaddr.IPv6;

/**
 * Parses an IP literal (a URL host in brackets or not, or a resolver answer). IPv4-mapped IPv6
 * (`::ffff:7f00:1`) becomes the IPv4 address it carries, so every later check sees the real target.
 */
export function parseAddress(text: string): IpAddress | undefined {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  if (!ipaddr.isValid(bare)) return undefined;
  const address = ipaddr.parse(bare.includes(':') ? canonicalIPv6(bare) : bare);
  if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()) {
    return (address as ipaddr.IPv6).toIPv4Address();
  }
  return address;
}

/**
 * The WHATWG URL parser's spelling of an IPv6 address. ipaddr.js reads `::8.8.8.8` as `::ffff:8.8.8.8`
 * (IPv4-mapped) where the URL parser and the socket layer mean `::808:808` (IPv4-compatible): the checks
 * must judge the address the connection would use, so every IPv6 text goes through the URL parser first.
 */
function canonicalIPv6(text: string): string {
  const [address, zone] = text.split('%');
  try {
    const canonical = new URL(`http://[${address}]/`).hostname.slice(1, -1);
    return zone === undefined ? canonical : `${canonical}%${zone}`;
  } catch {
    return text;
  }
}

export function addressFamily(address: IpAddress): 4 | 6 {
  return address.kind() === 'ipv4' ? 4 : 6;
}

const v6 = (cidr: string): [ipaddr.IPv6, number] => ipaddr.IPv6.parseCIDR(cidr);
const v4 = (cidr: string): [ipaddr.IPv4, number] => ipaddr.IPv4.parseCIDR(cidr);

/** Global unicast IPv6 (2000::/3); everything outside it is unassigned or special. */
const GLOBAL_UNICAST_V6 = v6('2000::/3');
/** Well-known NAT64 prefix (RFC 6052): the last 32 bits are an IPv4 address that a NAT64 gateway reaches. */
const NAT64_WELL_KNOWN = v6('64:ff9b::/96');
/**
 * Public addresses that are nevertheless internal to a cloud platform: Azure's WireServer / host agent
 * (168.63.129.16) answers every VM and is a known SSRF target.
 */
const PLATFORM_INTERNAL_V4 = [v4('168.63.129.16/32')];

/**
 * Only globally routable unicast addresses may be fetched; the rule is "allow the public internet", not
 * "deny a list", so a range nobody thought of stays closed. ipaddr.js classifies the special-purpose
 * registries: for IPv4 anything but `unicast` is refused (private 10/8, 172.16/12, 192.168/16, loopback 127/8,
 * link-local 169.254/16 incl. the 169.254.169.254 metadata service, carrier-grade NAT 100.64/10,
 * `this network` 0/8, multicast, 240/4, broadcast, benchmarking 198.18/15, documentation and 192.0.0/24).
 * For IPv6 only 2000::/3 can pass (so `::`, `::1`, IPv4-compatible `::7f00:1`, ULA, link-local, site-local and
 * multicast never do), and within it ipaddr.js's special ranges (6to4 2002::/16 and Teredo
 * 2001::/32, which tunnel to IPv4 addresses of the sender's choosing; ORCHID; benchmarking; documentation
 * 2001:db8::/32 and 3fff::/20) are refused too. NAT64 `64:ff9b::a.b.c.d` is judged by the IPv4 it reaches,
 * so IPv6-only clusters with DNS64 still fetch public images while `64:ff9b::a9fe:a9fe` stays closed.
 */
export function isPublicAddress(address: IpAddress): boolean {
  if (address.kind() === 'ipv4') {
    const ip = address as ipaddr.IPv4;
    return ip.range() === 'unicast' && !PLATFORM_INTERNAL_V4.some((range) => ip.match(range));
  }
  const ip = address as ipaddr.IPv6;
  if (ip.isIPv4MappedAddress()) return isPublicAddress(ip.toIPv4Address());
  if (ip.match(NAT64_WELL_KNOWN)) return isPublicAddress(embeddedIPv4(ip));
  return ip.match(GLOBAL_UNICAST_V6) && ip.range() === 'unicast';
}

function embeddedIPv4(address: ipaddr.IPv6): ipaddr.IPv4 {
  const [high, low] = address.parts.slice(6);
  return new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
}

/** The operator's allowlist: host names (exact, case-insensitive), IP addresses and CIDR ranges. */
export class HostAllowlist {
  private readonly names = new Set<string>();
  private readonly ranges: Array<[IpAddress, number]> = [];

  /** Throws on an entry that is neither a host name nor an address nor a CIDR range. */
  constructor(entries: readonly string[]) {
    for (const raw of entries) {
      const entry = raw.trim().toLowerCase();
      if (!entry) continue;
      if (entry.includes('/')) {
        const [address, bits] = ipaddr.parseCIDR(entry.replace(/^\[(.*)\](\/\d+)$/, '$1$2'));
        this.ranges.push(normaliseRange(address, bits));
        continue;
      }
      const address = parseAddress(entry);
      if (address) {
        this.ranges.push([address, address.kind() === 'ipv4' ? 32 : 128]);
      } else if (HOST_NAME.test(entry)) {
        this.names.add(withoutTrailingDot(entry));
      } else {
        throw new Error('not a host name, IP address or CIDR range');
      }
    }
  }

  get isEmpty(): boolean {
    return this.names.size === 0 && this.ranges.length === 0;
  }

  allowsName(hostname: string): boolean {
    return this.names.has(withoutTrailingDot(hostname.toLowerCase()));
  }

  allowsAddress(address: IpAddress): boolean {
    return this.ranges.some(([range, bits]) => range.kind() === address.kind() && address.match(range, bits));
  }
}

/** `::ffff:10.0.0.0/104` means 10.0.0.0/8: addresses are compared after the same IPv4-mapped unwrapping. */
function normaliseRange(address: IpAddress, bits: number): [IpAddress, number] {
  if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress() && bits >= 96) {
    return [(address as ipaddr.IPv6).toIPv4Address(), bits - 96];
  }
  return [address, bits];
}

const HOST_NAME =
  /^(?=.{1,254}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\.?$/;

export function withoutTrailingDot(hostname: string): string {
  return hostname.endsWith('.') ? hostname.slice(0, -1) : hostname;
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
