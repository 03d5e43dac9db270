import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { isIP } from 'node:net';
import { Duplex } from 'node:stream';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  FORBIDDEN_ADDRESSES,
  INTERNAL_NAMES,
  ODD_SPELLINGS,
  PRIVATELY_RESOLVING_NAMES,
  urlOf,
} from '../support/attack-catalogue';
import { forbidNonLoopbackConnections } from '../support/fetch-doubles';
import { bmpBomb, pngClaiming } from '../../libs/imaging/test/image-fixtures';
import { misbehavingRoutes, startImageServer, type ImageServer, type Route } from '../support/image-server';
import { FIXTURE_MODELS, foodPhotos } from '../support/shared-data';
import { startTestApp, type RunningApp } from '../support/test-app';

/**
 * The real app (startTestApp, the Food-101 model) under the whole SSRF / image-bomb battery, then checked
 * to be alive and still predicting. Nothing may leave loopback even if a defence broke: the app's DNS
 * resolver and request opener are replaced (vi.mock of their provider modules) by an in-memory DNS table
 * and an opener that only dials 127/8, and the process refuses any other TCP connect.
 */
interface TestNetwork {
  /** The in-memory DNS: name → answers. */
  dns: Record<string, string[]>;
  lookups: string[];
  dialed: string[];
  refused: string[];
  /** Addresses whose connections are black holes: connect never completes (connect-timeout tests). */
  blackHoles: Set<string>;
}

const network = vi.hoisted((): TestNetwork => ({
  dns: {},
  lookups: [],
  dialed: [],
  refused: [],
  blackHoles: new Set(),
}));

vi.mock('../../libs/image-fetch/src/url/host-resolver', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../libs/image-fetch/src/url/host-resolver')>();
  return {
    ...original,
    systemResolver: (hostname: string) => {
      network.lookups.push(hostname);
      const answers = network.dns[hostname.toLowerCase()];
      if (!answers)
        return Promise.reject(Object.assign(new Error(`ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }));
      return Promise.resolve(answers.map((address) => ({ address, family: isIP(address) })));
    },
  };
});

vi.mock('../../libs/image-fetch/src/url/request-opener', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../libs/image-fetch/src/url/request-opener')>();
  return {
    ...original,
    nodeRequestOpener: ((url, options) => {
      if (!/^127\.\d+\.\d+\.\d+$/.test(options.host)) {
        network.refused.push(options.host);
        throw new Error(`TEST SAFETY: the app tried to connect to ${options.host}`);
      }
      network.dialed.push(options.host);
      if (network.blackHoles.has(options.host)) {
        const silent = new Duplex({ read: () => undefined, write: (_chunk, _encoding, done) => done() });
        return httpRequest({ ...options, agent: undefined, createConnection: () => silent });
      }
      return original.nodeRequestOpener(url, options);
    }) satisfies typeof original.nodeRequestOpener,
  };
});

interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
}

const ALLOWED_HOST = 'images.test.example';
const MAX_IMAGE_BYTES = 512 * 1024;

describe('the SSRF and image-bomb battery against the running app', () => {
  let running: RunningApp;
  let server: ImageServer;
  let allowNetwork: () => void;
  const timers = new Set<NodeJS.Timeout>();
  const pizza = foodPhotos().find((photo) => photo.file === 'pizza__1.jpg')!;

  const upstream = (path: string) => `http://${ALLOWED_HOST}:${server.port}${path}`;
  const redirect =
    (location: () => string): Route =>
    (_request, response) =>
      response.writeHead(302, { location: location() }).end();
  const serve =
    (body: Buffer, contentType = 'image/jpeg'): Route =>
    (_request, response) =>
      response.writeHead(200, { 'content-type': contentType, 'content-length': body.length }).end(body);

  beforeAll(async () => {
    allowNetwork = forbidNonLoopbackConnections();
    Object.assign(network.dns, {
      [ALLOWED_HOST]: ['127.0.0.1'],
      'blackhole.test.example': ['127.0.0.3'],
      'public.test.example': ['93.184.216.34'],
    });
    for (const [name, answers] of PRIVATELY_RESOLVING_NAMES) network.dns[name] = answers;
    network.blackHoles.add('127.0.0.3');

    const jpeg = readFileSync(pizza.path);
    const png = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#ff0000' } })
      .png()
      .toBuffer();
    const routes: Record<string, Route> = {
      '/food/pizza.jpg': serve(jpeg),
      '/html': serve(Buffer.from('<!doctype html><title>login</title>'), 'text/html'),
      '/svg': serve(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'), 'image/svg+xml'),
      '/truncated.jpg': serve(jpeg.subarray(0, Math.floor(jpeg.length / 2))),
      '/bomb.png': serve(pngClaiming(png, 50_000, 50_000), 'image/png'),
      '/bomb.bmp': serve(bmpBomb(50_000, 50_000), 'image/bmp'),
      ...misbehavingRoutes(jpeg, timers),
      '/redirect/metadata': redirect(
        () => 'http://169.254.169.254/latest/meta-data/iam/security-credentials/',
      ),
      '/redirect/metadata-https': redirect(() => 'https://169.254.169.254/'),
      '/redirect/v6-loopback': redirect(() => `http://[::1]:${server.port}/food/pizza.jpg`),
      '/redirect/loopback-literal': redirect(() => `http://127.0.0.1:${server.port}/food/pizza.jpg`),
      '/redirect/private-name': redirect(() => 'http://private.attacker.example/food/pizza.jpg'),
      '/redirect/metadata-name': redirect(() => 'http://metadata.google.internal/computeMetadata/v1/'),
      '/redirect/file': redirect(() => 'file:///etc/passwd'),
      '/redirect/gopher': redirect(() => 'gopher://127.0.0.1:6379/_FLUSHALL'),
    };
    for (let hop = 0; hop < 4; hop++) routes[`/chain/${hop}`] = redirect(() => upstream(`/chain/${hop + 1}`));
    routes['/chain/4'] = serve(jpeg);
    server = await startImageServer(routes);
    running = await startTestApp(FIXTURE_MODELS.food101Tflite, {
      // The test server is reached by name only: 127.0.0.1 itself, in any spelling, stays forbidden.
      IMAGE_FETCH_ALLOW_HOSTS: `${ALLOWED_HOST},blackhole.test.example`,
      IMAGE_FETCH_CONNECT_TIMEOUT_MS: '300',
      IMAGE_FETCH_TIMEOUT_MS: '1500',
      IMAGE_FETCH_MAX_REDIRECTS: '3',
      MAX_IMAGE_BYTES: String(MAX_IMAGE_BYTES),
    });
  });

  afterAll(async () => {
    for (const timer of timers) clearInterval(timer);
    await running?.close();
    await server?.close();
    allowNetwork?.();
  });

  async function predictUrl(url: string): Promise<Response> {
    return fetch(`${running.baseUrl}/v1/predictions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url, top_k: 1 }),
    });
  }

  async function expectRefusal(url: string, status: number, code: string): Promise<Problem> {
    const response = await predictUrl(url);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const body = (await response.json()) as Problem;
    expect({ url, status: response.status, code: body.code }).toEqual({ url, status, code });
    expect(body.detail.length).toBeGreaterThan(0);
    return body;
  }

  it('refuses every forbidden address range, spelling and name, and never dials or leaks them', async () => {
    const lookupsBefore = network.lookups.length;
    for (const [address] of FORBIDDEN_ADDRESSES) {
      const body = await expectRefusal(urlOf(address), 400, 'url_forbidden_address');
      expect(body.detail).not.toContain(address);
    }
    for (const [url] of ODD_SPELLINGS) await expectRefusal(url, 400, 'url_forbidden_address');
    for (const name of INTERNAL_NAMES)
      await expectRefusal(`http://${name}/image.jpg`, 400, 'url_forbidden_address');
    // Literal addresses and internal names never reach DNS.
    expect(network.lookups.slice(lookupsBefore)).toEqual([]);
    for (const [name, answers] of PRIVATELY_RESOLVING_NAMES) {
      const body = await expectRefusal(`http://${name}/image.jpg`, 400, 'url_forbidden_address');
      for (const answer of answers) expect(JSON.stringify(body)).not.toContain(answer);
    }
    expect(network.dialed).toEqual([]);
  });

  it('refuses other schemes, credentials, other ports and unknown hosts', async () => {
    await expectRefusal('file:///etc/passwd', 400, 'url_scheme_not_allowed');
    await expectRefusal('gopher://127.0.0.1:6379/_FLUSHALL', 400, 'url_scheme_not_allowed');
    await expectRefusal(
      `http://user:pass@${ALLOWED_HOST}:${server.port}/food/pizza.jpg`,
      400,
      'url_credentials_not_allowed',
    );
    await expectRefusal('http://public.test.example:6379/', 400, 'url_port_not_allowed');
    await expectRefusal('http://no-such-host.test.example/a.jpg', 400, 'url_unresolvable');
  });

  it('checks every redirect hop again', async () => {
    for (const path of [
      '/redirect/metadata',
      '/redirect/metadata-https',
      '/redirect/v6-loopback',
      '/redirect/loopback-literal',
      '/redirect/private-name',
      '/redirect/metadata-name',
    ]) {
      await expectRefusal(upstream(path), 400, 'url_forbidden_address');
    }
    await expectRefusal(upstream('/redirect/file'), 400, 'url_scheme_not_allowed');
    await expectRefusal(upstream('/redirect/gopher'), 400, 'url_scheme_not_allowed');
    await expectRefusal(upstream('/chain/0'), 502, 'too_many_redirects');
    expect((await predictUrl(upstream('/chain/1'))).status).toBe(200);
  });

  it('bounds time, size and content', { timeout: 30_000 }, async () => {
    await expectRefusal(upstream('/slow-loris'), 504, 'upstream_timeout');
    await expectRefusal(upstream('/silent'), 504, 'upstream_timeout');
    await expectRefusal(`http://blackhole.test.example:${server.port}/a.jpg`, 504, 'upstream_timeout');
    await expectRefusal(upstream('/endless'), 413, 'too_large');
    await expectRefusal(upstream('/huge-length'), 413, 'too_large');
    await expectRefusal(upstream('/html'), 422, 'upstream_not_image');
    await expectRefusal(upstream('/svg'), 422, 'upstream_not_image');
    await expectRefusal(upstream('/missing.jpg'), 502, 'upstream_status');
    await expectRefusal(upstream('/truncated.jpg'), 422, 'unsupported_image');
    await expectRefusal(upstream('/bomb.png'), 413, 'image_too_many_pixels');
    await expectRefusal(upstream('/bomb.bmp'), 413, 'image_too_many_pixels');
  });

  it('answers the seed route with the same refusals', async () => {
    const seed = (link: string) =>
      fetch(`${running.baseUrl}/net/image/prediction/?image_link=${encodeURIComponent(link)}`, {
        method: 'POST',
      });
    const metadata = await seed('http://169.254.169.254/latest/meta-data/');
    expect(metadata.status).toBe(400);
    expect(((await metadata.json()) as Problem).code).toBe('url_forbidden_address');
    const bomb = await seed(upstream('/bomb.png'));
    expect(((await bomb.json()) as Problem).code).toBe('image_too_many_pixels');
  });

  it('is still alive and predicting after the battery, and never left loopback', async () => {
    expect((await fetch(`${running.baseUrl}/health/live`)).status).toBe(200);
    const response = await predictUrl(upstream('/food/pizza.jpg'));
    expect(response.status).toBe(200);
    const result = (await response.json()) as { predictions: Array<{ label: string }> };
    expect(result.predictions[0].label).toBe(pizza.label);
    expect(network.refused).toEqual([]);
    expect(network.dialed.every((host) => host.startsWith('127.'))).toBe(true);
    // The DNS that answered was the in-memory table (the mock is in place).
    expect(network.lookups).toContain(ALLOWED_HOST);
  });
});
