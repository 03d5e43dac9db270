import { Inject, Injectable, Optional } from '@nestjs/common';
import { lookup as dnsLookup } from 'node:dns/promises';
import type { ClientRequest, IncomingMessage, RequestOptions } from 'node:http';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { problem, ProblemError } from '@app/problem';
import { sniffImageFormat } from '../decode/image-sniffer';
import { IMAGE_FETCH_OPTIONS, type ImageFetchOptions } from '../image-fetch.options';
import { HostAllowlist, isPublicAddress, parseAddress } from './address-policy';
import { effectivePort, parseImageUrl } from './image-url';

export interface ResolvedAddress {
  address: string;
  family: number;
}

/** DNS resolution, injectable so tests can resolve names to any address without a DNS server. */
export type HostResolver = (hostname: string) => Promise<ResolvedAddress[]>;
/** Opens the HTTP(S) request; injectable so tests can prove a refused URL never reaches a socket. */
export type RequestOpener = (url: URL, options: RequestOptions) => ClientRequest;

export const HOST_RESOLVER = Symbol('HOST_RESOLVER');
export const REQUEST_OPENER = Symbol('REQUEST_OPENER');

export const systemResolver: HostResolver = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });
export const nodeRequestOpener: RequestOpener = (url, options) =>
  url.protocol === 'https:' ? httpsRequest(options) : httpRequest(options);

export interface FetchedImage {
  bytes: Buffer;
  contentType?: string;
  redirects: number;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const FORBIDDEN_DETAIL =
  'The image URL resolves to a private, loopback, link-local or otherwise reserved address, which this service does not fetch from: use a publicly reachable URL, or ask the operator to add the host to IMAGE_FETCH_ALLOW_HOSTS.';

/**
 * Downloads images from URLs that strangers send, without opening a door into the private network:
 * every hop's host is resolved once and every address checked, and the socket connects to that checked
 * address (no second lookup, so no DNS-rebinding window). Redirects are followed by hand and re-checked;
 * connect time, total time and body size are bounded; only image content is accepted.
 */
@Injectable()
export class UrlFetcher {
  private readonly allowlist: HostAllowlist;

  constructor(
    @Inject(IMAGE_FETCH_OPTIONS) private readonly options: ImageFetchOptions,
    @Optional() @Inject(HOST_RESOLVER) private readonly resolve: HostResolver = systemResolver,
    @Optional() @Inject(REQUEST_OPENER) private readonly open: RequestOpener = nodeRequestOpener,
  ) {
    this.allowlist = new HostAllowlist(options.allowHosts);
  }

  async fetch(rawUrl: string, signal?: AbortSignal): Promise<FetchedImage> {
    const timeout = AbortSignal.timeout(this.options.totalTimeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    let url = parseImageUrl(rawUrl);
    for (let redirects = 0; ; redirects++) {
      const target = await this.checkedTarget(url);
      const response = await this.request(url, target, combined);
      const location = response.headers.location;
      if (REDIRECT_STATUSES.has(response.statusCode ?? 0) && location) {
        response.destroy();
        if (redirects >= this.options.maxRedirects) {
          throw problem(
            'too_many_redirects',
            `The image URL redirected more than ${this.options.maxRedirects} times; send the final URL of the image.`,
          );
        }
        try {
          url = parseImageUrl(new URL(location, url).toString());
        } catch (error) {
          if (error instanceof ProblemError) throw error;
          throw problem('upstream_status', 'The image URL redirected to an invalid location.');
        }
        continue;
      }
      if (response.statusCode !== 200) {
        response.destroy();
        throw problem(
          'upstream_status',
          `The image URL answered HTTP ${response.statusCode}; check that the URL is right and public.`,
          { upstream_status: response.statusCode },
        );
      }
      const bytes = await this.readBody(response, combined);
      const contentType = response.headers['content-type'];
      if (!sniffImageFormat(bytes)) {
        throw problem(
          'upstream_not_image',
          `The image URL returned ${contentType ? `"${contentType.split(';')[0]}"` : 'content'} that is not a JPEG, PNG, WebP, GIF or BMP image.`,
        );
      }
      return { bytes, contentType, redirects };
    }
  }

  /** Checks port and address for one hop and returns the single address the socket may connect to. */
  private async checkedTarget(url: URL): Promise<ResolvedAddress> {
    const hostname = url.hostname;
    const literal = parseAddress(hostname);
    const nameAllowed = !literal && this.allowlist.allowsName(hostname);
    let candidates: ResolvedAddress[];
    if (literal) {
      candidates = [{ address: literal.toString(), family: literal.kind() === 'ipv4' ? 4 : 6 }];
    } else {
      try {
        candidates = await this.resolve(hostname);
      } catch {
        throw problem('url_unresolvable', `The host "${hostname}" of the image URL does not resolve.`);
      }
      if (candidates.length === 0) {
        throw problem('url_unresolvable', `The host "${hostname}" of the image URL does not resolve.`);
      }
    }
    const allowed = (candidate: ResolvedAddress): boolean => {
      const address = parseAddress(candidate.address);
      if (!address) return false;
      return nameAllowed || this.allowlist.allowsAddress(address) || isPublicAddress(address);
    };
    // One forbidden answer refuses the whole name: an attacker controls which record a client would pick.
    if (!candidates.every(allowed)) throw problem('url_forbidden_address', FORBIDDEN_DETAIL);
    const port = effectivePort(url);
    const everyAllowlisted = candidates.every((candidate) => {
      const address = parseAddress(candidate.address);
      return nameAllowed || (address !== undefined && this.allowlist.allowsAddress(address));
    });
    if (!everyAllowlisted && !this.options.allowedPorts.includes(port)) {
      throw problem(
        'url_port_not_allowed',
        `The image URL uses port ${port}; only ports ${this.options.allowedPorts.join(', ')} are fetched.`,
      );
    }
    const chosen = parseAddress(candidates[0].address)!;
    return { address: chosen.toString(), family: chosen.kind() === 'ipv4' ? 4 : 6 };
  }

  private request(url: URL, target: ResolvedAddress, signal: AbortSignal): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      let connectTimer: NodeJS.Timeout | undefined;
      const fail = (error: ProblemError): void => {
        clearTimeout(connectTimer);
        request.destroy();
        reject(error);
      };
      // Connecting to the checked IP (not the name) is the pin: nothing resolves the name a second time.
      const request = this.open(url, {
        protocol: url.protocol,
        host: target.address,
        port: effectivePort(url),
        path: `${url.pathname}${url.search}`,
        method: 'GET',
        servername: parseAddress(url.hostname) ? undefined : url.hostname,
        agent: false,
        signal,
        headers: {
          host: url.host,
          accept: 'image/*',
          'accept-encoding': 'identity',
          'user-agent': 'food-vision-api (image fetcher)',
        },
      } as RequestOptions & { servername?: string });
      request.on('socket', (socket) => {
        connectTimer = setTimeout(
          () => fail(problem('upstream_timeout', `The image host did not accept a connection within ${this.options.connectTimeoutMs} ms.`)),
          this.options.connectTimeoutMs,
        );
        socket.once('connect', () => clearTimeout(connectTimer));
      });
      request.on('response', (response) => {
        clearTimeout(connectTimer);
        resolve(response);
      });
      request.on('error', (error) => {
        clearTimeout(connectTimer);
        reject(this.translate(error, signal));
      });
      request.end();
    });
  }

  private readBody(response: IncomingMessage, signal: AbortSignal): Promise<Buffer> {
    const limit = this.options.maxBytes;
    const declared = Number(response.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      response.destroy();
      return Promise.reject(tooLarge(limit));
    }
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let received = 0;
      response.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > limit) {
          response.destroy();
          reject(tooLarge(limit));
          return;
        }
        chunks.push(chunk);
      });
      response.on('end', () => resolve(Buffer.concat(chunks)));
      response.on('error', (error) => reject(this.translate(error, signal)));
      response.on('aborted', () => reject(this.translate(new Error('aborted'), signal)));
    });
  }

  private translate(error: Error, signal: AbortSignal): ProblemError {
    if (error instanceof ProblemError) return error;
    if (signal.aborted) {
      return problem(
        'upstream_timeout',
        `The image URL did not deliver the image within ${this.options.totalTimeoutMs} ms; use a faster host or a smaller image.`,
      );
    }
    return problem('upstream_unreachable', 'The image URL could not be reached; check that the host is up and public.');
  }
}

function tooLarge(limit: number): ProblemError {
  return problem('too_large', `The image is larger than ${limit} bytes; send a smaller image.`, { limit_bytes: limit });
}
