import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { serveBytes, startImageServer, type ImageServer } from '../support/image-server';
import { FIXTURE_MODELS, foodPhotos } from '../support/shared-data';
import { startTestApp, type RunningApp } from '../support/test-app';

const KEYS = ['k-alpha-7f3c9b2e41d8', 'k-beta-0a6e5d4c3b2a'];
/** Open even when keys or limits are on: probes, metrics, the OpenAPI document, the welcome route. */
const OPEN_PATHS = ['/health/live', '/health/ready', '/metrics', '/docs-json', '/'];

interface Problem {
  code: string;
  status: number;
  detail: string;
  request_id?: string;
}

describe('optional protections', () => {
  let images: ImageServer;
  let running: RunningApp | undefined;

  beforeAll(async () => {
    images = await startImageServer({ '/food.jpg': serveBytes(readFileSync(foodPhotos()[0].path)) });
  });
  afterEach(async () => {
    await running?.close();
    running = undefined;
  });
  afterAll(async () => {
    await images?.close();
  });

  const predict = (headers: Record<string, string> = {}) =>
    fetch(`${running!.baseUrl}/v1/predictions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ url: images.url('/food.jpg') }),
    });

  it('are documented in the OpenAPI document: both key schemes, 401/429 on protected operations only', async () => {
    running = await startTestApp(FIXTURE_MODELS.food101Tflite, {}, { waitForModel: false });
    const document = (await (await fetch(`${running.baseUrl}/docs-json`)).json()) as {
      components: {
        securitySchemes: Record<string, { type: string; in?: string; name?: string; scheme?: string }>;
      };
      paths: Record<string, Record<string, { security?: unknown[]; responses: Record<string, unknown> }>>;
    };
    expect(document.components.securitySchemes).toMatchObject({
      api_key: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
      bearer: { type: 'http', scheme: 'bearer' },
    });
    const predict = document.paths['/v1/predictions'].post;
    expect(predict.security).toEqual([{ api_key: [] }, { bearer: [] }, {}]);
    expect(Object.keys(predict.responses)).toEqual(expect.arrayContaining(['401', '429']));
    for (const path of ['/health/live', '/health/ready', '/metrics', '/']) {
      const operation = document.paths[path].get;
      expect(operation.security ?? [], path).toEqual([]);
      expect(Object.keys(operation.responses), path).not.toContain('401');
      expect(Object.keys(operation.responses), path).not.toContain('429');
    }
  });

  it('are off by default: no key needed, no limit', async () => {
    running = await startTestApp(FIXTURE_MODELS.food101Tflite);
    for (let i = 0; i < 3; i++) expect((await predict()).status).toBe(200);
    const models = await fetch(`${running.baseUrl}/v1/models`);
    expect(models.headers.get('x-ratelimit-limit')).toBeNull();
  });

  it('with API_KEYS, require a valid key as X-API-Key or Bearer, answering 401 problems otherwise', async () => {
    running = await startTestApp(FIXTURE_MODELS.food101Tflite, { API_KEYS: KEYS.join(',') });

    const anonymous = await predict();
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer /);
    const missing = (await anonymous.json()) as Problem;
    expect(missing).toMatchObject({ code: 'unauthorized', status: 401 });
    expect(missing.detail).toMatch(/X-API-Key/);
    expect(missing.request_id).toBe(anonymous.headers.get('x-request-id'));

    const wrong = await predict({ 'x-api-key': `${KEYS[0]}x` });
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as Problem).detail).toMatch(/not valid/);
    expect(
      (await predict({ authorization: `Basic ${Buffer.from(`u:${KEYS[0]}`).toString('base64')}` })).status,
    ).toBe(401);

    expect((await predict({ 'x-api-key': KEYS[1] })).status).toBe(200);
    expect((await predict({ authorization: `Bearer ${KEYS[0]}` })).status).toBe(200);
    expect((await fetch(`${running.baseUrl}/v1/models`)).status).toBe(401);
    const seed = await fetch(
      `${running.baseUrl}/net/image/prediction?image_link=${images.url('/food.jpg')}`,
      {
        method: 'POST',
      },
    );
    expect(seed.status).toBe(401);

    for (const path of OPEN_PATHS) expect((await fetch(`${running.baseUrl}${path}`)).status, path).toBe(200);
  });

  it('with RATE_LIMIT_PER_MINUTE, answer 429 problems with Retry-After past the limit, never on probes', async () => {
    running = await startTestApp(FIXTURE_MODELS.food101Tflite, { RATE_LIMIT_PER_MINUTE: '3' });
    for (let i = 0; i < 3; i++) {
      const response = await fetch(`${running.baseUrl}/v1/models`);
      expect(response.status).toBe(200);
      expect(response.headers.get('x-ratelimit-remaining')).toBe(String(2 - i));
    }
    // One budget per client across routes, not per route.
    const limited = await predict();
    expect(limited.status).toBe(429);
    expect(limited.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect((await limited.json()) as Problem).toMatchObject({ code: 'rate_limited', status: 429 });

    for (let round = 0; round < 3; round++) {
      for (const path of OPEN_PATHS)
        expect((await fetch(`${running.baseUrl}${path}`)).status, path).toBe(200);
    }
  });

  it('with both, count each API key separately', async () => {
    running = await startTestApp(FIXTURE_MODELS.food101Tflite, {
      API_KEYS: KEYS.join(','),
      RATE_LIMIT_PER_MINUTE: '2',
    });
    const models = (key: string) => fetch(`${running!.baseUrl}/v1/models`, { headers: { 'x-api-key': key } });
    expect((await models(KEYS[0])).status).toBe(200);
    expect((await models(KEYS[0])).status).toBe(200);
    expect((await models(KEYS[0])).status).toBe(429);
    expect((await models(KEYS[1])).status).toBe(200);
    // A wrong key is refused before it can use up anyone's budget.
    expect((await models('nope')).status).toBe(401);
  });
});
