import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, Socket } from 'node:net';
import { Duplex } from 'node:stream';
import type { HostResolver, ResolvedAddress } from '../../libs/image-fetch/src/url/host-resolver';
import { nodeRequestOpener, type RequestOpener } from '../../libs/image-fetch/src/url/request-opener';

const isLoopback = (host: string): boolean => host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);

export interface RecordingOpener {
  open: RequestOpener;
  /** `host` of every request the fetcher tried to open, in order. */
  targets: string[];
  /** The Host header of every request the fetcher tried to open. */
  hostHeaders: string[];
}

/**
 * Opens real requests, but only to loopback (127/8 or ::1: the test's own servers). A request to any other
 * address is recorded and refused with an exception before a socket exists, so a broken defence makes the
 * test fail instead of sending a packet into someone's network.
 */
export function loopbackOnlyOpener(): RecordingOpener & { refused: string[] } {
  const recorder = { targets: [] as string[], hostHeaders: [] as string[], refused: [] as string[] };
  const open: RequestOpener = (url, options) => {
    recorder.targets.push(options.host);
    recorder.hostHeaders.push(String(options.headers && (options.headers as Record<string, unknown>).host));
    if (!isLoopback(options.host)) {
      recorder.refused.push(options.host);
      throw new Error(`TEST SAFETY: the fetcher tried to connect to ${options.host}, which is not loopback`);
    }
    return nodeRequestOpener(url, options);
  };
  return { ...recorder, open };
}

/** Records every attempt and never connects anywhere: for URLs that must be refused before any socket. */
export function neverOpener(): RecordingOpener {
  const recorder = { targets: [] as string[], hostHeaders: [] as string[] };
  const open: RequestOpener = (_url, options) => {
    recorder.targets.push(options.host);
    recorder.hostHeaders.push(String(options.headers && (options.headers as Record<string, unknown>).host));
    throw new Error(
      `TEST SAFETY: the fetcher tried to connect to ${options.host}; it should have refused first`,
    );
  };
  return { ...recorder, open };
}

export interface FakeDns {
  resolve: HostResolver;
  /** Every name that was looked up, in order. */
  lookups: string[];
}

/**
 * A DNS table in memory: a name maps to its answers (or to a list of answer sets, one per successive
 * lookup, to play a rebinding attacker). Unknown names fail like NXDOMAIN. No packet is sent.
 */
export function fakeDns(table: Record<string, string[] | string[][]>): FakeDns {
  const lookups: string[] = [];
  const resolve: HostResolver = (hostname) => {
    const name = hostname.toLowerCase();
    const count = lookups.filter((looked) => looked === name).length;
    lookups.push(name);
    const entry = table[name];
    if (!entry)
      return Promise.reject(Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: 'ENOTFOUND' }));
    const answers = (
      Array.isArray(entry[0]) ? (entry as string[][])[Math.min(count, entry.length - 1)] : entry
    ) as string[];
    return Promise.resolve(answers.map((address): ResolvedAddress => ({ address, family: isIP(address) })));
  };
  return { resolve, lookups };
}

/** A resolver that must not be asked at all (literal IPs and names refused by their shape). */
export function noDns(): FakeDns {
  return fakeDns({});
}

/**
 * Opens requests over a socket that never connects and never answers (a SYN into a black hole), without any
 * network: `agent` must be unset for Node to use `createConnection` (with `agent: false` it would dial out).
 */
export function blackHoleOpener(): RecordingOpener & { sockets: Duplex[] } {
  const recorder = { targets: [] as string[], hostHeaders: [] as string[], sockets: [] as Duplex[] };
  const open: RequestOpener = (url, options) => {
    recorder.targets.push(options.host);
    const silent = new Duplex({ read: () => undefined, write: (_chunk, _encoding, done) => done() });
    recorder.sockets.push(silent);
    const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)({
      ...options,
      agent: undefined,
      createConnection: () => silent,
    });
    request.once('socket', (socket) => {
      if (socket !== silent) {
        socket.destroy();
        throw new Error('TEST SAFETY: the black-hole opener got a real socket');
      }
    });
    return request;
  };
  return { ...recorder, open };
}

type ConnectArgs = Parameters<typeof Socket.prototype.connect>;

/**
 * Defence in depth for the test process itself: while installed, any TCP connect to a non-loopback host
 * throws before a packet leaves (IPC paths and loopback pass). Returns the function that removes it.
 */
export function forbidNonLoopbackConnections(): () => void {
  const original = Socket.prototype.connect;
  Socket.prototype.connect = function guardedConnect(this: Socket, ...args: ConnectArgs) {
    const first: unknown = Array.isArray(args[0]) ? (args[0] as unknown[])[0] : args[0];
    const host =
      typeof first === 'object' && first !== null
        ? (first as { host?: string; path?: string }).path
          ? '127.0.0.1'
          : (first as { host?: string }).host
        : typeof args[1] === 'string'
          ? args[1]
          : undefined;
    if (host !== undefined && host !== 'localhost' && !isLoopback(host)) {
      throw new Error(`TEST SAFETY: a connection to ${host} was attempted from a test`);
    }
    return original.apply(this, args);
  } as typeof original;
  return () => {
    Socket.prototype.connect = original;
  };
}
