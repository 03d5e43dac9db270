import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE_MODELS, FOOD_IMAGES_DIR } from '../support/shared-data';
import { startTestApp, type RunningApp } from '../support/test-app';

const preflight = (baseUrl: string, origin: string) =>
  fetch(`${baseUrl}/v1/predictions`, {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type,x-api-key',
    },
  });

const corsHeaders = (response: Response) =>
  Object.fromEntries([...response.headers].filter(([name]) => name.startsWith('access-control-')));

describe('CORS', () => {
  it('with CORS_ORIGINS=* (the default) allows any origin, never with credentials', async () => {
    const running = await startTestApp(FIXTURE_MODELS.food101Tflite, {}, { waitForModel: false });
    try {
      const response = await preflight(running.baseUrl, 'https://evil.example');
      expect(response.status).toBe(204);
      expect(corsHeaders(response)).toEqual({
        'access-control-allow-origin': '*',
        'access-control-allow-methods': 'GET,HEAD,PUT,PATCH,POST,DELETE',
        'access-control-allow-headers': 'content-type,x-api-key',
      });
      const simple = await fetch(`${running.baseUrl}/v1/models`, {
        headers: { origin: 'https://evil.example', cookie: 'session=abc' },
      });
      expect(simple.headers.get('access-control-allow-origin')).toBe('*');
      expect(simple.headers.get('access-control-allow-credentials')).toBeNull();
    } finally {
      await running.close();
    }
  });

  it('with a list, echoes a listed origin with credentials and gives any other none', async () => {
    const running = await startTestApp(
      FIXTURE_MODELS.food101Tflite,
      { CORS_ORIGINS: 'https://app.example,https://admin.example' },
      { waitForModel: false },
    );
    try {
      const allowed = await preflight(running.baseUrl, 'https://admin.example');
      expect(allowed.status).toBe(204);
      expect(corsHeaders(allowed)).toMatchObject({
        'access-control-allow-origin': 'https://admin.example',
        'access-control-allow-credentials': 'true',
      });
      expect(allowed.headers.get('vary')).toMatch(/Origin/);
      const other = await preflight(running.baseUrl, 'https://evil.example');
      expect(corsHeaders(other)).toEqual({});
      expect(other.headers.get('vary')).toMatch(/Origin/);
      const simple = await fetch(`${running.baseUrl}/v1/models`, {
        headers: { origin: 'https://evil.example' },
      });
      expect(simple.status).toBe(200);
      expect(corsHeaders(simple)).toEqual({});
    } finally {
      await running.close();
    }
  });
});

describe('security headers and POST /v1/predictions?include=model_input', () => {
  let running: RunningApp;
  const pizza = readFileSync(join(FOOD_IMAGES_DIR, 'pizza__1.jpg'));

  beforeAll(async () => {
    running = await startTestApp(FIXTURE_MODELS.food101Tflite, { MAX_IMAGE_BYTES: '2000000' });
  });

  afterAll(async () => {
    await running?.close();
  });

  const predict = (body: unknown, query = '') =>
    fetch(`${running.baseUrl}/v1/predictions${query}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it.each([
    ['/', 'GET'],
    ['/v1/models', 'GET'],
    ['/health/live', 'GET'],
    ['/demo', 'GET'],
    ['/monitor', 'GET'],
    ['/docs', 'GET'],
    ['/no-such-route', 'GET'],
    ['/v1/predictions', 'POST'],
  ])('sets them on %s (%s), an error included', async (path, method) => {
    const response = await fetch(`${running.baseUrl}${path}`, { method });
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('x-powered-by')).toBeNull();
    expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(response.headers.get('content-security-policy')).toMatch(/^default-src 'none'/);
  });

  it('gives /monitor only its own origin too, and no inline script or style', async () => {
    const monitor = await fetch(`${running.baseUrl}/monitor`);
    const policy = monitor.headers.get('content-security-policy')!;
    expect(policy).toContain("script-src 'self';");
    expect(policy).toContain("connect-src 'self';");
    expect(policy).not.toContain('unsafe-inline');
    const html = await monitor.text();
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|\sstyle=/);
  });

  it('sets them on a body the parser refuses (413)', async () => {
    const response = await predict({ image: 'A'.repeat(3_000_000) });
    expect(response.status).toBe(413);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('content-security-policy')).toMatch(/^default-src 'none'/);
  });

  it('gives the JSON API nothing beyond default-src none, and the pages only their own origin', async () => {
    const api = await fetch(`${running.baseUrl}/v1/models`);
    expect(api.headers.get('content-security-policy')).toBe(
      "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    );
    const demo = await fetch(`${running.baseUrl}/demo`);
    expect(demo.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const demoPolicy = demo.headers.get('content-security-policy')!;
    expect(demoPolicy).toContain("script-src 'self';");
    expect(demoPolicy).toContain("connect-src 'self';");
    expect(demoPolicy).not.toContain('unsafe-inline');
    // The page has no inline script or style for the policy to allow.
    const html = await demo.text();
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|\sstyle=/);
    expect(
      Buffer.byteLength(html) + (await (await fetch(`${running.baseUrl}/demo/demo.js`)).text()).length,
    ).toBeLessThan(20_000);
    const docs = await fetch(`${running.baseUrl}/docs`);
    const docsPolicy = docs.headers.get('content-security-policy')!;
    expect(docsPolicy).toContain("script-src 'self';");
    expect(docsPolicy).not.toContain('unsafe-inline');
    expect(docsPolicy).toMatch(/style-src 'self' 'unsafe-hashes'( 'sha256-[A-Za-z0-9+/=]+')+;/);
  });

  it('leaves GET / the seed JSON', async () => {
    expect(await (await fetch(`${running.baseUrl}/`)).text()).toBe(
      '{"message":"Welcome to the Food Vision API!"}',
    );
  });

  it('returns the 224 × 224 input as a PNG that the model classifies exactly as the photo', async () => {
    const response = await predict({ image: pizza.toString('base64'), top_k: 5 }, '?include=model_input');
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      predictions: unknown[];
      model_input: { media_type: string; width: number; height: number; data: string };
    };
    expect(body.model_input).toMatchObject({ media_type: 'image/png', width: 224, height: 224 });
    const png = Buffer.from(body.model_input.data, 'base64');
    const metadata = await sharp(png).metadata();
    expect(metadata).toMatchObject({ format: 'png', width: 224, height: 224, channels: 3 });
    // The manifest resizes with `fill`: a 224 × 224 image goes to the model pixel for pixel, so the same scores.
    const again = await predict({ image: png.toString('base64'), top_k: 5 });
    expect(((await again.json()) as { predictions: unknown[] }).predictions).toEqual(body.predictions);
    const plain = (await (await predict({ image: pizza.toString('base64') })).json()) as Record<
      string,
      unknown
    >;
    expect(plain).not.toHaveProperty('model_input');
  });

  it('accepts include on multipart uploads and refuses an unknown include with 400', async () => {
    const form = new FormData();
    form.append('image', new Blob([pizza]), 'pizza.jpg');
    const upload = await fetch(`${running.baseUrl}/v1/predictions?include=model_input`, {
      method: 'POST',
      body: form,
    });
    expect(upload.status).toBe(200);
    expect(((await upload.json()) as { model_input?: unknown }).model_input).toBeDefined();
    const unknown = await predict({ image: pizza.toString('base64') }, '?include=pixels');
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toMatchObject({
      code: 'validation_failed',
      errors: [{ field: 'include', message: 'include must be a comma-separated list of: model_input' }],
    });
  });
});
