import { lookup } from 'node:dns/promises';

export interface ResolvedAddress {
  address: string;
  family: number;
}

/** DNS resolution (every A and AAAA answer); injectable so tests resolve names without a DNS server. */
export type HostResolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const HOST_RESOLVER = Symbol('HOST_RESOLVER');

/** The system resolver (getaddrinfo: /etc/hosts, search domains), exactly what a plain client would use. */
export const systemResolver: HostResolver = (hostname) => lookup(hostname, { all: true, verbatim: true });
