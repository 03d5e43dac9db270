import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProblemError } from '@app/problem';
import {
  misbehavingRoutes,
  startImageServer,
  type ImageServer,
  type Route,
} from '../../../../test/support/image-server';
import {
  FORBIDDEN_ADDRESSES,
  INTERNAL_NAMES,
  ODD_SPELLINGS,
  PRIVATELY_RESOLVING_NAMES,
  urlOf,
} from '../../../../test/support/attack-catalogue';
import {
  blackHoleOpener,
  fakeDns,
  forbidNonLoopbackConnections,
  loopbackOnlyOpener,
  neverOpener,
  noDns,
  type FakeDns,
} from '../../../../test/support/fetch-doubles';
import { DEFAULT_IMAGE_FETCH_OPTIONS, type ImageFetchOptions } from '../image-fetch.options';
import { UrlFetcher } from './url-fetcher';

const OPTIONS: ImageFetchOptions = {
  ...DEFAULT_IMAGE_FETCH_OPTIONS,
  maxBytes: 256 * 1024,
  connectTimeoutMs: 300,
  totalTimeoutMs: 1_500,
  maxRedirects: 3,
  allowHosts: [],
};

// Whatever a defence or a test double gets wrong, nothing in this file may dial out of loopback.
let allowConnections: () => void;
beforeAll(() => {
  allowConnections = forbidNonLoopbackConnections();
});
afterAll(() => allowConnections());

async function refusal(promise: Promise<unknown>): Promise<ProblemError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ProblemError) return error;
    throw error;
  }
  throw new Error('the fetch was not refused');
}

describe('UrlFetcher refuses before connecting', () => {
  function fetcher(dns: FakeDns, options: Partial<ImageFetchOptions> = {}) {
    const opener = neverOpener();
    return { fetcher: new UrlFetcher({ ...OPTIONS, ...options }, dns.resolve, opener.open), opener };
  }

  it.each(FORBIDDEN_ADDRESSES)('refuses the literal address %s (%s)', async (address) => {
    const dns = noDns();
    const { fetcher: subject, opener } = fetcher(dns);
    const problem = await refusal(subject.fetch(urlOf(address)));
    expect(problem.code).toBe('url_forbidden_address');
    expect(problem.status).toBe(400);
    expect(opener.targets).toEqual([]);
    expect(dns.lookups).toEqual([]);
  });

  it.each(ODD_SPELLINGS)('refuses %s (%s)', async (url) => {
    const dns = noDns();
    const { fetcher: subject, opener } = fetcher(dns);
    expect((await refusal(subject.fetch(url))).code).toBe('url_forbidden_address');
    expect(opener.targets).toEqual([]);
    expect(dns.lookups).toEqual([]);
  });

  it.each(INTERNAL_NAMES)('refuses the internal name %s without asking DNS', async (name) => {
    // The table answers a private address too, so only the name rule keeps the lookup from happening.
    const dns = fakeDns({
      [name.toLowerCase().replace(/\.$/, '')]: ['10.0.0.1'],
      [name.toLowerCase()]: ['10.0.0.1'],
    });
    const { fetcher: subject, opener } = fetcher(dns);
    expect((await refusal(subject.fetch(`http://${name}/image.jpg`))).code).toBe('url_forbidden_address');
    expect(dns.lookups).toEqual([]);
    expect(opener.targets).toEqual([]);
  });

  it.each(PRIVATELY_RESOLVING_NAMES)('refuses %s, which resolves to %j', async (name, answers) => {
    const dns = fakeDns({ [name]: answers });
    const { fetcher: subject, opener } = fetcher(dns);
    const problem = await refusal(subject.fetch(`http://${name}/image.jpg`));
    expect(problem.code).toBe('url_forbidden_address');
    expect(dns.lookups).toEqual([name]);
    expect(opener.targets).toEqual([]);
    // The refusal never tells the client which internal address the name had.
    const shown = JSON.stringify({ detail: problem.detail, ...problem.extensions });
    for (const answer of answers) expect(shown).not.toContain(answer);
  });

  it('reports a name that does not resolve', async () => {
    const dns = fakeDns({});
    const { fetcher: subject, opener } = fetcher(dns);
    const problem = await refusal(subject.fetch('http://no-such-host.example/a.jpg'));
    expect(problem.code).toBe('url_unresolvable');
    expect(opener.targets).toEqual([]);
  });

  it.each([
    'http://93.184.216.34:22/a.jpg',
    'http://93.184.216.34:6379/',
    'https://public.example:8443/a.jpg',
    'http://public.example:0/',
  ])('refuses the port of %s', async (url) => {
    const dns = fakeDns({ 'public.example': ['93.184.216.34'] });
    const { fetcher: subject, opener } = fetcher(dns);
    expect((await refusal(subject.fetch(url))).code).toBe('url_port_not_allowed');
    expect(opener.targets).toEqual([]);
  });

  it('lets a configured extra port through to the connect step', async () => {
    const dns = fakeDns({ 'public.example': ['93.184.216.34'] });
    const { fetcher: subject, opener } = fetcher(dns, { allowedPorts: [80, 443, 8080] });
    await expect(subject.fetch('http://public.example:8080/a.jpg')).rejects.toThrow(/TEST SAFETY/);
    expect(opener.targets).toEqual(['93.184.216.34']);
  });

  it.each([
    ['file:///etc/passwd', 'url_scheme_not_allowed'],
    ['gopher://127.0.0.1:6379/_FLUSHALL', 'url_scheme_not_allowed'],
    ['ftp://public.example/a.jpg', 'url_scheme_not_allowed'],
    ['http://user:pass@public.example/a.jpg', 'url_credentials_not_allowed'],
  ])('refuses %s with %s', async (url, code) => {
    const dns = fakeDns({ 'public.example': ['93.184.216.34'] });
    const { fetcher: subject, opener } = fetcher(dns);
    expect((await refusal(subject.fetch(url))).code).toBe(code);
    expect(opener.targets).toEqual([]);
    expect(dns.lookups).toEqual([]);
  });

  it('connects to the address it checked, once resolved (no DNS-rebinding window)', async () => {
    // A rebinding name: public on the first lookup, loopback on every later one.
    const dns = fakeDns({ 'rebind.attacker.example': [['93.184.216.34'], ['127.0.0.1']] });
    const { fetcher: subject, opener } = fetcher(dns);
    await expect(subject.fetch('http://rebind.attacker.example/a.jpg')).rejects.toThrow(/TEST SAFETY/);
    expect(dns.lookups).toEqual(['rebind.attacker.example']);
    expect(opener.targets).toEqual(['93.184.216.34']);
    expect(opener.hostHeaders).toEqual(['rebind.attacker.example']);
  });

  describe('IMAGE_FETCH_ALLOW_HOSTS', () => {
    it('lets an allowlisted CIDR through on any port', async () => {
      const { fetcher: subject, opener } = fetcher(noDns(), { allowHosts: ['10.1.2.0/24'] });
      await expect(subject.fetch('http://10.1.2.3:9000/a.jpg')).rejects.toThrow(/TEST SAFETY/);
      expect(opener.targets).toEqual(['10.1.2.3']);
    });

    it('lets an allowlisted name through whatever it resolves to', async () => {
      const dns = fakeDns({ 'images.internal': ['10.9.9.9'] });
      const { fetcher: subject, opener } = fetcher(dns, { allowHosts: ['images.internal'] });
      await expect(subject.fetch('http://images.internal:8080/a.jpg')).rejects.toThrow(/TEST SAFETY/);
      expect(opener.targets).toEqual(['10.9.9.9']);
    });

    it('allows exactly what it lists: 127.0.0.1 does not open ::1, 127.0.0.2, localhost or 10/8', async () => {
      const dns = fakeDns({ localhost: ['127.0.0.1'] });
      const { fetcher: subject, opener } = fetcher(dns, { allowHosts: ['127.0.0.1'] });
      for (const url of ['http://[::1]/', 'http://127.0.0.2/', 'http://localhost/', 'http://10.0.0.1/']) {
        expect((await refusal(subject.fetch(url))).code).toBe('url_forbidden_address');
      }
      expect(opener.targets).toEqual([]);
    });
  });
});

describe('UrlFetcher against real servers on 127.0.0.1', () => {
  let server: ImageServer;
  let jpeg: Buffer;
  const openTimers = new Set<NodeJS.Timeout>();
  const dns = fakeDns({
    'private.attacker.example': ['10.0.0.7'],
    'flip.attacker.example': [['127.0.0.1'], ['10.0.0.1']],
    'two.example': ['127.0.0.2', '127.0.0.1'],
  });

  const redirect =
    (location: () => string, status = 302): Route =>
    (_request, response) => {
      response.writeHead(status, { location: location() }).end();
    };
  const serve =
    (body: () => Buffer, headers: Record<string, string> = { 'content-type': 'image/jpeg' }): Route =>
    (_request, response) => {
      response.writeHead(200, headers).end(body());
    };
  const html = Buffer.from('<!doctype html><html><body>Not found, but with a 200</body></html>');
  const svg = Buffer.from(
    '<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"><image href="http://169.254.169.254/"/></svg>',
  );

  beforeAll(async () => {
    jpeg = await sharp({ create: { width: 32, height: 24, channels: 3, background: '#c83232' } })
      .jpeg()
      .toBuffer();
    const routes: Record<string, Route> = {
      '/pizza.jpg': serve(() => jpeg),
      '/octet.jpg': serve(() => jpeg, { 'content-type': 'binary/octet-stream' }),
      '/untyped.jpg': serve(() => jpeg, {}),
      '/html-labelled-jpeg': serve(() => html),
      '/jpeg-labelled-html': serve(() => jpeg, { 'content-type': 'text/html; charset=utf-8' }),
      '/svg': serve(() => svg, { 'content-type': 'image/svg+xml' }),
      '/svg-as-octets': serve(() => svg, { 'content-type': 'application/octet-stream' }),
      '/tiny': serve(() => Buffer.from('\xff\xd8\xff', 'latin1')),
      '/server-error': (_request, response) => response.writeHead(500).end('boom at 10.0.0.3'),
      ...misbehavingRoutes(jpeg, openTimers),
      '/endless-html': (_request, response) => {
        response.writeHead(200, { 'content-type': 'image/png' });
        const chunk = Buffer.from('<html>'.padEnd(64 * 1024, 'x'));
        const pump = (): void => {
          while (!response.destroyed && response.write(chunk));
          if (!response.destroyed) response.once('drain', pump);
        };
        pump();
      },
      '/truncated-body': (_request, response) => {
        response.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': String(jpeg.length) });
        response.write(jpeg.subarray(0, 40));
        setTimeout(() => response.socket?.destroy(), 20);
      },
      '/redirect/relative': redirect(() => '/pizza.jpg'),
      '/redirect/metadata': redirect(
        () => 'http://169.254.169.254/latest/meta-data/iam/security-credentials/',
      ),
      '/redirect/metadata-decimal': redirect(() => 'http://2852039166/latest/meta-data/', 301),
      '/redirect/metadata-https': redirect(() => 'https://169.254.169.254/', 308),
      '/redirect/v6-loopback': redirect(() => `http://[::1]:${server.port}/pizza.jpg`, 307),
      '/redirect/mapped-loopback': redirect(() => `http://[::ffff:127.0.0.2]:${server.port}/pizza.jpg`),
      '/redirect/private-name': redirect(() => 'http://private.attacker.example/pizza.jpg', 303),
      '/redirect/localhost': redirect(() => `http://localhost:${server.port}/pizza.jpg`),
      '/redirect/file': redirect(() => 'file:///etc/passwd'),
      '/redirect/gopher': redirect(() => 'gopher://127.0.0.1:6379/_FLUSHALL'),
      '/redirect/credentials': redirect(() => `http://admin:admin@127.0.0.1:${server.port}/pizza.jpg`),
      '/redirect/no-location': (_request, response) => response.writeHead(302).end(),
    };
    for (let hop = 0; hop < 6; hop++) {
      routes[`/chain/${hop}`] = redirect(() => `/chain/${hop + 1}`);
    }
    routes['/chain/6'] = serve(() => jpeg);
    server = await startImageServer(routes);
  });

  afterAll(async () => {
    for (const timer of openTimers) clearInterval(timer);
    await server?.close();
  });

  function fetcher(options: Partial<ImageFetchOptions> = {}) {
    const opener = loopbackOnlyOpener();
    return {
      fetcher: new UrlFetcher(
        { ...OPTIONS, allowHosts: ['127.0.0.1'], ...options },
        dns.resolve,
        opener.open,
      ),
      opener,
    };
  }

  it('downloads an allowed image, and the honest variants of it', async () => {
    const { fetcher: subject } = fetcher();
    for (const path of ['/pizza.jpg', '/octet.jpg', '/untyped.jpg', '/redirect/relative']) {
      const image = await subject.fetch(server.url(path));
      expect(image.bytes.equals(jpeg)).toBe(true);
    }
  });

  it('follows up to the maximum number of redirects and refuses one more', async () => {
    const { fetcher: subject } = fetcher();
    const image = await subject.fetch(server.url('/chain/3'));
    expect(image.redirects).toBe(3);
    const problem = await refusal(subject.fetch(server.url('/chain/2')));
    expect(problem.code).toBe('too_many_redirects');
    expect(problem.status).toBe(502);
  });

  it.each([
    ['/redirect/metadata', 'url_forbidden_address'],
    ['/redirect/metadata-decimal', 'url_forbidden_address'],
    ['/redirect/metadata-https', 'url_forbidden_address'],
    ['/redirect/v6-loopback', 'url_forbidden_address'],
    ['/redirect/mapped-loopback', 'url_forbidden_address'],
    ['/redirect/private-name', 'url_forbidden_address'],
    ['/redirect/localhost', 'url_forbidden_address'],
    ['/redirect/file', 'url_scheme_not_allowed'],
    ['/redirect/gopher', 'url_scheme_not_allowed'],
    ['/redirect/credentials', 'url_credentials_not_allowed'],
    ['/redirect/no-location', 'upstream_status'],
  ])('checks the redirect hop of %s again (%s)', async (path, code) => {
    const { fetcher: subject, opener } = fetcher();
    const problem = await refusal(subject.fetch(server.url(path)));
    expect(problem.code).toBe(code);
    // Only the allowed first hop was connected to.
    expect(opener.targets).toEqual(['127.0.0.1']);
    expect(opener.refused).toEqual([]);
  });

  it('pins the connection to the checked address and keeps the name in the Host header', async () => {
    const { fetcher: subject, opener } = fetcher();
    const lookupsBefore = dns.lookups.length;
    const image = await subject.fetch(`http://flip.attacker.example:${server.port}/pizza.jpg`);
    expect(image.bytes.equals(jpeg)).toBe(true);
    expect(dns.lookups.slice(lookupsBefore)).toEqual(['flip.attacker.example']);
    expect(opener.targets).toEqual(['127.0.0.1']);
    expect(opener.hostHeaders).toEqual([`flip.attacker.example:${server.port}`]);
  });

  it('reads an IPv4-mapped IPv6 URL as the IPv4 address it carries, for the allowlist and the socket', async () => {
    const { fetcher: subject, opener } = fetcher();
    const image = await subject.fetch(`http://[::ffff:127.0.0.1]:${server.port}/pizza.jpg`);
    expect(image.bytes.equals(jpeg)).toBe(true);
    expect(opener.targets).toEqual(['127.0.0.1']);
  });

  it('tries the next checked address when one does not answer', async () => {
    const { fetcher: subject, opener } = fetcher({ allowHosts: ['127.0.0.0/8'] });
    const image = await subject.fetch(`http://two.example:${server.port}/pizza.jpg`);
    expect(image.bytes.equals(jpeg)).toBe(true);
    expect(opener.targets).toEqual(['127.0.0.2', '127.0.0.1']);
  });

  it('refuses a 404 and a 500 as upstream_status without echoing the body', async () => {
    const { fetcher: subject } = fetcher();
    const missing = await refusal(subject.fetch(server.url('/missing.jpg')));
    expect(missing).toMatchObject({
      code: 'upstream_status',
      status: 502,
      extensions: { upstream_status: 404 },
    });
    const failing = await refusal(subject.fetch(server.url('/server-error')));
    expect(failing.extensions).toEqual({ upstream_status: 500 });
    expect(failing.detail).not.toContain('10.0.0.3');
  });

  it('refuses a declared non-image type before reading the body', async () => {
    const { fetcher: subject } = fetcher();
    const problem = await refusal(subject.fetch(server.url('/jpeg-labelled-html')));
    expect(problem).toMatchObject({ code: 'upstream_not_image', status: 422 });
  });

  it('refuses bytes that are not an image whatever the label says', async () => {
    const { fetcher: subject } = fetcher();
    expect((await refusal(subject.fetch(server.url('/html-labelled-jpeg')))).code).toBe('upstream_not_image');
    expect((await refusal(subject.fetch(server.url('/svg')))).code).toBe('upstream_not_image');
    expect((await refusal(subject.fetch(server.url('/svg-as-octets')))).code).toBe('upstream_not_image');
    // Shorter than any image: only the end-of-body sniff sees it.
    expect((await refusal(subject.fetch(server.url('/tiny')))).code).toBe('upstream_not_image');
  });

  it('stops an endless non-image body after its first bytes', async () => {
    const { fetcher: subject } = fetcher({ maxBytes: 100 * 1024 * 1024 });
    expect((await refusal(subject.fetch(server.url('/endless-html')))).code).toBe('upstream_not_image');
  });

  it('stops an endless image body at the byte limit', async () => {
    const { fetcher: subject } = fetcher({ totalTimeoutMs: 30_000 });
    const problem = await refusal(subject.fetch(server.url('/endless')));
    expect(problem).toMatchObject({
      code: 'too_large',
      status: 413,
      extensions: { limit_bytes: OPTIONS.maxBytes },
    });
  });

  it('refuses a huge Content-Length without waiting for the body', async () => {
    const { fetcher: subject } = fetcher({ totalTimeoutMs: 30_000 });
    expect((await refusal(subject.fetch(server.url('/huge-length')))).code).toBe('too_large');
  });

  it('gives up on a slow-loris upstream at the total timeout', { timeout: 15_000 }, async () => {
    const { fetcher: subject } = fetcher();
    const problem = await refusal(subject.fetch(server.url('/slow-loris')));
    expect(problem).toMatchObject({ code: 'upstream_timeout', status: 504 });
  });

  it('gives up on an upstream that never answers at the total timeout', { timeout: 15_000 }, async () => {
    const { fetcher: subject } = fetcher();
    expect((await refusal(subject.fetch(server.url('/silent')))).code).toBe('upstream_timeout');
  });

  it('reports a body cut short as unreachable', async () => {
    const { fetcher: subject } = fetcher();
    expect((await refusal(subject.fetch(server.url('/truncated-body')))).code).toBe('upstream_unreachable');
  });

  it('stops waiting when the client hangs up', { timeout: 15_000 }, async () => {
    const { fetcher: subject } = fetcher({ totalTimeoutMs: 60_000 });
    const client = new AbortController();
    setTimeout(() => client.abort(), 100);
    await expect(subject.fetch(server.url('/silent'), client.signal)).rejects.toBeInstanceOf(ProblemError);
  });
});

describe('UrlFetcher connect timeout', () => {
  it('gives up when the TCP connection is never established', { timeout: 15_000 }, async () => {
    // A socket that never connects (a SYN into a black hole), simulated without any network.
    const blackHole = blackHoleOpener();
    const dns = fakeDns({ 'slow.example': ['93.184.216.34'] });
    const subject = new UrlFetcher({ ...OPTIONS, totalTimeoutMs: 60_000 }, dns.resolve, blackHole.open);
    const problem = await refusal(subject.fetch('http://slow.example/a.jpg'));
    expect(problem).toMatchObject({ code: 'upstream_timeout', status: 504 });
    expect(problem.detail).toMatch(/connection/);
    expect(blackHole.targets).toEqual(['93.184.216.34']);
    expect(blackHole.sockets[0].destroyed).toBe(true);
  });
});
