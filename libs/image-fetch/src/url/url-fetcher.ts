import { Inject, Injectable } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { SpanKind, type Span } from '@opentelemetry/api';
import { problem, ProblemError } from '@app/problem';
import { endSpan, failSpan, inSpan, recordingSpan, startSpan } from '@app/telemetry';
import { IMAGE_FETCH_OPTIONS, type ImageFetchOptions } from '../image-fetch.options';
import { withoutTrailingDot } from './address-policy';
import { DestinationGuard } from './destination-guard';
import { FetchDeadline } from './fetch-deadline';
import { HOST_RESOLVER, type HostResolver, type ResolvedAddress } from './host-resolver';
import { checkDeclaredContentType, readImageBody } from './image-body';
import { effectivePort, parseImageUrl } from './image-url';
import { REQUEST_OPENER, type PinnedRequestOptions, type RequestOpener } from './request-opener';

export interface FetchedImage {
  bytes: Buffer;
  contentType?: string;
  redirects: number;
  /** The URL the image finally came from (after redirects); for logs, never for error messages. */
  finalUrl: string;
}

/** A hop's client span attributes (HTTP semantic conventions); never the path or query, which may be signed. */
function hopAttributes(url: URL, redirects: number) {
  return {
    'http.request.method': 'GET',
    'server.address': url.hostname,
    'server.port': effectivePort(url),
    'url.scheme': url.protocol.slice(0, -1),
    'food_vision.fetch.hop': redirects,
  };
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const ACCEPT = 'image/webp,image/png,image/jpeg,image/gif,image/bmp;q=0.9,*/*;q=0.1';

/**
 * Downloads images from URLs that strangers send, without opening a door into the private network. Each hop
 * is checked by the `DestinationGuard` (scheme, credentials, host name, every resolved address, port) and the
 * socket connects to a checked address, never to the name. Redirects are followed by hand, at most
 * `maxRedirects`, each hop checked again. Connect time, total time and body size are bounded, and only
 * image content is read.
 */
@Injectable()
export class UrlFetcher {
  private readonly guard: DestinationGuard;

  constructor(
    @Inject(IMAGE_FETCH_OPTIONS) private readonly options: ImageFetchOptions,
    @Inject(HOST_RESOLVER) resolve: HostResolver,
    @Inject(REQUEST_OPENER) private readonly open: RequestOpener,
  ) {
    this.guard = new DestinationGuard(options, resolve);
  }

  async fetch(rawUrl: string, signal?: AbortSignal): Promise<FetchedImage> {
    const deadline = new FetchDeadline(this.options.totalTimeoutMs, signal);
    let url = parseImageUrl(rawUrl);
    for (let redirects = 0; ; redirects++) {
      const hop = url;
      const outcome = await inSpan(
        'GET',
        { kind: SpanKind.CLIENT, attributes: hopAttributes(hop, redirects) },
        (span) => this.hop(hop, redirects, deadline, span),
      );
      if (outcome.kind === 'image') return { ...outcome.image, redirects };
      url = outcome.next;
    }
  }

  /** One request of the chain: where it may connect, the answer, and either the image or where it redirects. */
  private async hop(
    url: URL,
    redirects: number,
    deadline: FetchDeadline,
    span: Span | undefined,
  ): Promise<{ kind: 'redirect'; next: URL } | { kind: 'image'; image: Omit<FetchedImage, 'redirects'> }> {
    const addresses = await this.guard.check(url, deadline);
    const response = await this.connect(url, addresses, deadline);
    const status = response.statusCode ?? 0;
    span?.setAttribute('http.response.status_code', status);
    if (REDIRECT_STATUSES.has(status) && response.headers.location) {
      response.destroy();
      return { kind: 'redirect', next: this.redirectTarget(url, response.headers.location, redirects) };
    }
    if (status !== 200) {
      response.destroy();
      throw problem(
        'upstream_status',
        `The image URL answered HTTP ${status}; check that the URL is right and publicly readable.`,
        { upstream_status: status },
      );
    }
    const contentType = response.headers['content-type'];
    try {
      checkDeclaredContentType(contentType);
    } catch (error) {
      response.destroy();
      throw error;
    }
    const bytes = await readImageBody(response, {
      maxBytes: this.options.maxBytes,
      signal: deadline.signal,
      onAbort: () => deadline.timeoutProblem(),
      onBroken: () =>
        problem('upstream_unreachable', 'The image URL closed the connection before the image was complete.'),
    });
    span?.setAttribute('http.response.body.size', bytes.length);
    return { kind: 'image', image: { bytes, contentType, finalUrl: url.href } };
  }

  private redirectTarget(from: URL, location: string, redirectsSoFar: number): URL {
    if (redirectsSoFar >= this.options.maxRedirects) {
      throw problem(
        'too_many_redirects',
        `The image URL redirected more than ${this.options.maxRedirects} times; send the final URL of the image.`,
      );
    }
    let next: string;
    try {
      next = new URL(location, from).href;
    } catch {
      throw problem(
        'upstream_status',
        'The image URL redirected to an invalid location; send the final URL of the image.',
      );
    }
    // The same checks as the client's own URL: a redirect to file:, gopher: or user:pass@ is refused.
    return parseImageUrl(next);
  }

  /** Tries the checked addresses in order (an IPv6 answer may be unroutable here while IPv4 works). */
  private async connect(
    url: URL,
    addresses: ResolvedAddress[],
    deadline: FetchDeadline,
  ): Promise<IncomingMessage> {
    let lastFailure: ProblemError | undefined;
    for (const target of addresses) {
      try {
        return await this.request(url, target, deadline);
      } catch (error) {
        if (!(error instanceof ProblemError) || deadline.expired) throw error;
        lastFailure = error;
      }
    }
    throw lastFailure ?? problem('upstream_unreachable', 'The image URL could not be reached.');
  }

  private request(url: URL, target: ResolvedAddress, deadline: FetchDeadline): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const settle = (error: ProblemError | undefined, response?: IncomingMessage): void => {
        if (settled) return;
        settled = true;
        clearTimeout(connectTimer);
        connected(error);
        deadline.signal.removeEventListener('abort', onAbort);
        if (error) {
          request.destroy();
          reject(error);
        } else {
          resolve(response!);
        }
      };
      const onAbort = (): void => settle(deadline.timeoutProblem());
      const connecting = recordingSpan()
        ? startSpan('connect', {
            attributes: {
              'network.peer.address': target.address,
              'network.peer.port': effectivePort(url),
              'network.transport': 'tcp',
              'url.scheme': url.protocol.slice(0, -1),
            },
          })
        : undefined;
      const connected = (error?: ProblemError): void => {
        if (!connecting?.isRecording()) return;
        if (error) failSpan(connecting, error);
        endSpan(connecting);
      };
      const request = this.open(url, this.pinnedOptions(url, target));
      const connectTimer = setTimeout(
        () =>
          settle(
            problem(
              'upstream_timeout',
              `The image host did not accept a connection within ${this.options.connectTimeoutMs} ms; check that the host is up and public.`,
            ),
          ),
        this.options.connectTimeoutMs,
      );
      if (deadline.expired) return onAbort();
      deadline.signal.addEventListener('abort', onAbort, { once: true });
      request.once('socket', (socket) => {
        socket.once(url.protocol === 'https:' ? 'secureConnect' : 'connect', () => {
          clearTimeout(connectTimer);
          connected();
        });
      });
      request.once('response', (response) => settle(undefined, response));
      request.on('error', () =>
        settle(
          deadline.expired
            ? deadline.timeoutProblem()
            : problem(
                'upstream_unreachable',
                'The image URL could not be reached; check that the host is up and public.',
              ),
        ),
      );
      request.end();
    });
  }

  /** Connecting to the checked IP (not the name) is the pin: nothing resolves the name a second time. */
  private pinnedOptions(url: URL, target: ResolvedAddress): PinnedRequestOptions {
    if (isIP(target.address) === 0)
      throw new Error(`Refusing to connect to a non-IP target ${target.address}`);
    const hostname = withoutTrailingDot(url.hostname);
    return {
      protocol: url.protocol,
      host: target.address,
      family: target.family,
      port: effectivePort(url),
      path: `${url.pathname}${url.search}`,
      method: 'GET',
      agent: false,
      // TLS verifies the certificate against the URL's host name, not the pinned IP (Node would also take it
      // from the Host header; set explicitly so SNI never depends on that).
      servername: isIP(hostname.replace(/^\[|\]$/g, '')) ? undefined : hostname,
      headers: {
        host: url.host,
        accept: ACCEPT,
        'accept-encoding': 'identity',
        'user-agent': 'food-vision-api (image fetcher)',
      },
    };
  }
}
