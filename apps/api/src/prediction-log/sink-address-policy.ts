import type { LookupAddress, LookupOptions } from 'node:dns';
import {
  isInternalHostName,
  isPublicAddress,
  parseAddress,
  type HostResolver,
  type ResolvedAddress,
} from '@app/image-fetch';

/**
 * Why the sink URL is refused by its shape alone (the image URLs' address policy: a private, loopback,
 * link-local or cluster-internal host), or undefined. A host name is checked again at each connection, by
 * `guardedLookup`, against what it resolves to.
 */
export function sinkAddressRefusal(url: URL, allowPrivate: boolean): string | undefined {
  if (allowPrivate) return undefined;
  const literal = parseAddress(url.hostname);
  const internal = literal ? !isPublicAddress(literal) : isInternalHostName(url.hostname);
  return internal
    ? `the sink ${url.host} is a private, loopback, link-local or cluster-internal address, which the image URLs' address policy refuses; set PREDICTION_LOG_ALLOW_PRIVATE=true to send there`
    : undefined;
}

/** A connection refused because the sink's name resolved to an address the policy refuses. */
export class ForbiddenSinkAddress extends Error {
  readonly code = 'ERR_FORBIDDEN_SINK_ADDRESS';

  constructor(hostname: string, address: string) {
    super(`the sink ${hostname} resolved to ${address}, a private or internal address`);
    this.name = 'ForbiddenSinkAddress';
  }
}

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/** `net.connect`'s `lookup` option. */
export type SocketLookup = (hostname: string, options: LookupOptions, callback: LookupCallback) => void;

/**
 * A socket `lookup` that resolves with `resolve` and refuses the connection when any answer is not public (one
 * forbidden answer refuses the name, as for image URLs): the check and the connection use the same answers, so
 * a DNS answer that changes between them never matters. Runs for each new connection to the sink.
 */
export function guardedLookup(resolve: HostResolver): SocketLookup {
  return (hostname, options, callback) => {
    resolve(hostname).then(
      (answers) => {
        const forbidden = answers.find((answer) => {
          const address = parseAddress(answer.address);
          return !address || !isPublicAddress(address);
        });
        if (forbidden) return callback(new ForbiddenSinkAddress(hostname, forbidden.address), '');
        const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : options.family;
        const usable = answers.filter((answer) => !family || answer.family === family);
        if (usable.length === 0) return callback(notFound(hostname), '');
        if (options.all) return callback(null, usable.map(asLookupAddress));
        callback(null, usable[0].address, usable[0].family);
      },
      (error: NodeJS.ErrnoException) => callback(error, ''),
    );
  };
}

const asLookupAddress = (answer: ResolvedAddress): LookupAddress => ({
  address: answer.address,
  family: answer.family,
});

function notFound(hostname: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
}
