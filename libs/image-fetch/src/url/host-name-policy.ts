import { withoutTrailingDot } from './address-policy';

/**
 * Suffixes that only ever name things inside a machine, a LAN or a cluster: special-use names (RFC 6761
 * `localhost`, RFC 6762 `local`, RFC 8375 `home.arpa`), ICANN's private-use `internal` (where
 * `metadata.google.internal` lives), reverse-DNS zones, and Kubernetes service names (`*.svc`,
 * `*.svc.cluster.local`). No public image is served from them.
 */
const INTERNAL_SUFFIXES = ['localhost', 'localdomain', 'local', 'internal', 'home.arpa', 'arpa', 'svc'];

/**
 * Whether a (non-IP) host name is internal by its shape alone, so it is refused before any DNS query.
 * Single-label names (`metadata`, `kubernetes`, `instance-data`) are internal too: a resolver completes them
 * with the search domains of the pod or host. The resolved-address check still runs for every other name;
 * this only closes the door earlier and keeps such names out of DNS logs.
 */
export function isInternalHostName(hostname: string): boolean {
  const name = withoutTrailingDot(hostname.toLowerCase());
  if (!name.includes('.')) return true;
  return INTERNAL_SUFFIXES.some((suffix) => name === suffix || name.endsWith(`.${suffix}`));
}
