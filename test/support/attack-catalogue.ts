/**
 * The SSRF attack catalogue shared by the unit and e2e suites: every address range, spelling and name the
 * image fetcher must refuse. Each entry is [value, why it is dangerous].
 */

export const FORBIDDEN_ADDRESSES: ReadonlyArray<readonly [string, string]> = [
  ['0.0.0.0', 'unspecified (reaches the local host on Linux)'],
  ['0.1.2.3', '"this network" 0/8'],
  ['127.0.0.1', 'loopback'],
  ['127.255.255.254', 'loopback 127/8'],
  ['10.0.0.1', 'RFC 1918 10/8'],
  ['172.16.0.1', 'RFC 1918 172.16/12'],
  ['172.31.255.255', 'RFC 1918 172.16/12, top'],
  ['192.168.1.1', 'RFC 1918 192.168/16'],
  ['169.254.169.254', 'link-local: AWS/GCP/Azure/OpenStack metadata'],
  ['169.254.170.2', 'link-local: ECS task metadata'],
  ['100.64.0.1', 'carrier-grade NAT 100.64/10'],
  ['100.100.100.200', 'carrier-grade NAT: Alibaba Cloud metadata'],
  ['224.0.0.1', 'multicast'],
  ['239.255.255.250', 'multicast (SSDP)'],
  ['255.255.255.255', 'broadcast'],
  ['240.0.0.1', 'reserved 240/4'],
  ['192.0.0.8', 'IETF protocol assignments 192.0.0/24'],
  ['192.0.2.1', 'documentation TEST-NET-1'],
  ['198.51.100.7', 'documentation TEST-NET-2'],
  ['203.0.113.9', 'documentation TEST-NET-3'],
  ['198.18.0.1', 'benchmarking 198.18/15'],
  ['198.19.255.255', 'benchmarking 198.18/15, top'],
  ['168.63.129.16', 'Azure WireServer (public address, platform-internal)'],
  ['::', 'IPv6 unspecified'],
  ['::1', 'IPv6 loopback'],
  ['::ffff:127.0.0.1', 'IPv4-mapped loopback'],
  ['::ffff:a9fe:a9fe', 'IPv4-mapped metadata address'],
  ['::ffff:10.0.0.1', 'IPv4-mapped private'],
  ['::127.0.0.1', 'IPv4-compatible loopback'],
  ['::a9fe:a9fe', 'IPv4-compatible metadata address'],
  ['::8.8.8.8', 'IPv4-compatible (deprecated), even of a public address'],
  ['::ffff:0:a9fe:a9fe', 'SIIT IPv4-translated (RFC 6145)'],
  ['64:ff9b::a9fe:a9fe', 'NAT64 of the metadata address'],
  ['64:ff9b::7f00:1', 'NAT64 of loopback'],
  ['64:ff9b::a00:1', 'NAT64 of 10.0.0.1'],
  ['64:ff9b:1::a9fe:a9fe', 'local-use NAT64 64:ff9b:1::/48'],
  ['2002:a9fe:a9fe::1', '6to4 carrying the metadata address'],
  ['2002:7f00:1::', '6to4 carrying loopback'],
  ['2002:808:808::1', '6to4 (deprecated), even of a public address'],
  ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'Teredo'],
  ['fc00::1', 'unique local fc00::/7'],
  ['fd00::1', 'unique local fd00::/8'],
  ['fd00:ec2::254', 'unique local: AWS IPv6 metadata'],
  ['fe80::1', 'link-local fe80::/10'],
  ['febf::1', 'link-local fe80::/10, top'],
  ['fec0::1', 'deprecated site-local'],
  ['ff02::1', 'multicast'],
  ['100::1', 'discard-only 100::/64'],
  ['2001:db8::1', 'documentation 2001:db8::/32'],
  ['3fff::1', 'documentation 3fff::/20'],
  ['2001:2::1', 'benchmarking 2001:2::/48'],
  ['2001:10::1', 'ORCHID'],
  ['4000::1', 'outside global unicast 2000::/3'],
];

export const PUBLIC_ADDRESSES: readonly string[] = [
  '8.8.8.8',
  '93.184.216.34',
  '1.1.1.1',
  '100.63.255.255',
  '100.128.0.1',
  '172.32.0.1',
  '2606:4700::1111',
  '2a00:1450:4001:81b::200e',
  '64:ff9b::808:808',
  '::ffff:8.8.8.8',
];

/** The URL an address is reached by: IPv6 in brackets. */
export function urlOf(address: string, path = '/latest/meta-data/'): string {
  return address.includes(':') ? `http://[${address}]${path}` : `http://${address}${path}`;
}

/** Odd spellings of internal IPv4 addresses that naive string checks miss (WHATWG turns them into dotted quads). */
export const ODD_SPELLINGS: ReadonlyArray<readonly [string, string]> = [
  ['http://2130706433/', 'decimal 127.0.0.1'],
  ['http://0177.0.0.1/', 'octal 127.0.0.1'],
  ['http://0x7f.1/', 'hex, short 127.0.0.1'],
  ['http://0x7f000001/', 'hex 127.0.0.1'],
  ['http://127.1/', 'short 127.0.0.1'],
  ['http://127.0.0.1./', 'trailing dot'],
  ['http://%31%32%37.0.0.1/', 'percent-encoded'],
  ['http://１２７．０．０．１/', 'full-width digits'],
  ['http://0/', '0 = 0.0.0.0'],
  ['http://2852039166/', 'decimal 169.254.169.254'],
  ['http://0xa9.0xfe.0xa9.0xfe/', 'hex 169.254.169.254'],
  ['http://0251.0376.0251.0376/', 'octal 169.254.169.254'],
  ['http://169.254.43518/', 'short 169.254.169.254'],
  ['http://167772161/', 'decimal 10.0.0.1'],
  ['http://10.1/', 'short 10.0.0.1'],
  ['http://[::ffff:127.0.0.1]/', 'IPv4-mapped, dotted'],
  ['http://[0:0:0:0:0:ffff:127.0.0.1]/', 'IPv4-mapped, long'],
  ['http://[::ffff:7f00:1]/', 'IPv4-mapped, hex'],
  ['http://[::127.0.0.1]/', 'IPv4-compatible'],
  ['http://[::ffff:169.254.169.254]/', 'IPv4-mapped metadata'],
  ['http://[0000::1]/', 'long ::1'],
];

/** Host names refused by their shape, before any DNS query. */
export const INTERNAL_NAMES: readonly string[] = [
  'localhost',
  'LOCALHOST',
  'localhost.',
  'api.localhost',
  'metadata.google.internal',
  'metadata.google.internal.',
  'metadata',
  'instance-data',
  'kubernetes.default.svc',
  'kubernetes.default.svc.cluster.local',
  'printer.local',
  'router.home.arpa',
];

/** Names an attacker controls that resolve inside: [name, answers]. */
export const PRIVATELY_RESOLVING_NAMES: ReadonlyArray<readonly [string, string[]]> = [
  ['metadata.attacker.example', ['169.254.169.254']],
  ['private.attacker.example', ['10.0.0.7']],
  ['loopback.attacker.example', ['127.0.0.1']],
  ['v6-loopback.attacker.example', ['::1']],
  ['mapped.attacker.example', ['::ffff:127.0.0.1']],
  ['ula.attacker.example', ['fd00::1']],
  ['zero.attacker.example', ['0.0.0.0']],
  ['169.254.169.254.nip.io', ['169.254.169.254']],
  ['mixed.attacker.example', ['93.184.216.34', '10.0.0.1']],
  ['mixed-v6.attacker.example', ['2606:4700::1111', 'fe80::1']],
  ['mixed-order.attacker.example', ['192.168.0.10', '93.184.216.34']],
];
