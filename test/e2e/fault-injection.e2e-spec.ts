/**
 * Faults injected into the running app: a worker killed mid-inference, a worker stuck past its deadline, a burst
 * past the queue, model files truncated or removed around a reload, a client that reads its answer a byte at a
 * time. Each time the affected request gets a clear 503 (or the old model keeps serving), nothing else is lost,
 * and the service recovers by itself. The slow cases use the TF.js MobileNetV2 on the pure-JS backend (about a
 * second per image) so requests are certainly running when the fault hits; waits watch state, not the clock.
 */
import { copyFileSync, mkdtempSync, readdirSync, rmSync, truncateSync, unlinkSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ModelRegistry, type InferenceStats } from '@app/inference';
import { FIXTURE_MODELS, foodPhotos } from '../support/shared-data';
import { startTestApp, type RunningApp } from '../support/test-app';

process.env.TFJS_BACKEND = 'cpu';

const SLOW = { INFERENCE_FLOAT_ENGINE: 'tfjs', MODEL_WARMUP: 'false' };
const pizza = readFileSync(foodPhotos().find((photo) => photo.file === 'pizza__1.jpg')!.path);
const waitUntil = (check: () => void) => vi.waitFor(check, { timeout: 30_000, interval: 5 });
const stats = (app: RunningApp): InferenceStats => app.app.get(ModelRegistry).ready().inference.stats();

function classify(app: RunningApp): Promise<Response> {
  return fetch(`${app.baseUrl}/v1/predictions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ image: pizza.toString('base64'), top_k: 1 }),
  });
}

async function outcome(
  response: Response,
): Promise<{ status: number; code?: string; retryAfter: string | null }> {
  const body = (await response.json()) as { code?: string };
  return { status: response.status, code: body.code, retryAfter: response.headers.get('retry-after') };
}

describe('a worker that dies mid-inference, two workers', () => {
  let running: RunningApp;

  beforeAll(async () => {
    running = await startTestApp(FIXTURE_MODELS.mobilenetV2Tfjs, {
      ...SLOW,
      INFERENCE_WORKERS: '2',
      INFERENCE_TIMEOUT_MS: '60000',
    });
  });

  afterAll(async () => {
    await running?.close();
  });

  it('fails only the request it was running (503 inference_worker_failed, Retry-After), loses no other, and is replaced', async () => {
    const pool = running.app.get(ModelRegistry).ready().inference.pool!;
    const requests = Array.from({ length: 3 }, () => classify(running).then(outcome));
    await waitUntil(() => expect(pool.stats().busy).toBe(2));
    const [victim] = pool.threadIds();
    await pool.replaceWorker(victim);
    const outcomes = await Promise.all(requests);
    const failed = outcomes.filter((result) => result.status !== 200);
    expect(failed).toEqual([{ status: 503, code: 'inference_worker_failed', retryAfter: '1' }]);
    expect(outcomes.filter((result) => result.status === 200)).toHaveLength(2);
    await waitUntil(() => expect(pool.stats()).toMatchObject({ ready: 2, crashes: 1 }));
    expect(pool.threadIds()).not.toContain(victim);
    expect((await classify(running)).status).toBe(200);
  }, 180_000);
});

describe('a worker stuck past twice the deadline', () => {
  let running: RunningApp;

  beforeAll(async () => {
    // Every inference here outlasts the deadline, so each looks exactly like a hung worker.
    running = await startTestApp(FIXTURE_MODELS.mobilenetV2Tfjs, {
      ...SLOW,
      INFERENCE_WORKERS: '1',
      INFERENCE_TIMEOUT_MS: '150',
    });
  });

  afterAll(async () => {
    await running?.close();
  });

  it('answers 503 inference_timeout at the deadline, then stops and replaces the worker, freeing its slot', async () => {
    const pool = running.app.get(ModelRegistry).ready().inference.pool!;
    const [stuck] = pool.threadIds();
    const result = await outcome(await classify(running));
    expect(result).toMatchObject({ status: 503, code: 'inference_timeout' });
    expect(Number(result.retryAfter)).toBeGreaterThanOrEqual(1);
    await waitUntil(() => expect(pool.stats()).toMatchObject({ crashes: 1, ready: 1, busy: 0 }));
    expect(pool.threadIds()).not.toContain(stuck);
    await waitUntil(() => expect(stats(running)).toMatchObject({ running: 0, queued: 0 }));
  });
});

describe('a burst past the queue: one worker, two waiting places', () => {
  let running: RunningApp;

  beforeAll(async () => {
    running = await startTestApp(FIXTURE_MODELS.mobilenetV2Tfjs, {
      ...SLOW,
      INFERENCE_WORKERS: '1',
      INFERENCE_QUEUE_SIZE: '2',
      INFERENCE_TIMEOUT_MS: '120000',
    });
  });

  afterAll(async () => {
    await running?.close();
  });

  it('answers every request: 200, or 503 overloaded with Retry-After, counted; none dropped silently', async () => {
    const before = stats(running);
    const outcomes = await Promise.all(Array.from({ length: 6 }, () => classify(running).then(outcome)));
    const refused = outcomes.filter((result) => result.status === 503);
    expect(outcomes.filter((result) => result.status === 200).length + refused.length).toBe(6);
    expect(refused.length).toBeGreaterThanOrEqual(1);
    expect(refused.some((result) => result.code === 'overloaded')).toBe(true);
    for (const result of refused) {
      // On a badly overloaded machine a queued one may also reach the (long) deadline: a 503 with its reason too.
      expect(['overloaded', 'inference_timeout']).toContain(result.code);
      expect(Number(result.retryAfter)).toBeGreaterThanOrEqual(1);
    }
    const after = stats(running);
    expect(after.overloaded - before.overloaded + after.timedOut - before.timedOut).toBe(refused.length);
    expect(after.completed - before.completed).toBe(6 - refused.length);
  }, 180_000);
});

describe('model files that break around a reload', () => {
  let running: RunningApp;
  let dir: string;
  const source = FIXTURE_MODELS.food101Tflite.dir;
  const weights = 'mobilenet_v1_0.5_224_fft_int8.tflite';
  const restore = () => copyFileSync(join(source, weights), join(dir, weights));
  const reload = () =>
    fetch(`${running.baseUrl}/v1/models/food101-mobilenet-v1-int8/reload`, { method: 'POST' });

  async function classifiesPizza() {
    const response = await classify(running);
    expect(response.status).toBe(200);
    expect(((await response.json()) as { predictions: Array<{ label: string }> }).predictions[0].label).toBe(
      'pizza',
    );
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'food-vision-fault-'));
    for (const file of readdirSync(source)) copyFileSync(join(source, file), join(dir, file));
    running = await startTestApp(
      { manifest: FIXTURE_MODELS.food101Tflite.manifest, dir },
      { INFERENCE_WORKERS: '1' },
    );
  });

  afterAll(async () => {
    await running?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a truncated model file: the reload fails with model_reload_failed and the old version keeps serving', async () => {
    truncateSync(join(dir, weights), 1_000);
    const response = await reload();
    expect(await outcome(response)).toMatchObject({ status: 500, code: 'model_reload_failed' });
    await classifiesPizza();
    restore();
  });

  it('a model file that disappears: the same', async () => {
    unlinkSync(join(dir, weights));
    expect(await outcome(await reload())).toMatchObject({ status: 500, code: 'model_reload_failed' });
    await classifiesPizza();
    restore();
  });

  it('a file truncated while the reload runs, under traffic: every request is answered by a working model', async () => {
    const traffic = Array.from({ length: 6 }, () => classify(running));
    const reloading = reload();
    truncateSync(join(dir, weights), 10);
    const reloaded = await reloading;
    // Whether the reload read the file before or after the cut, it either swapped in a good copy or failed.
    expect([200, 500]).toContain(reloaded.status);
    for (const response of await Promise.all(traffic)) expect(response.status).toBe(200);
    await classifiesPizza();
    restore();
    expect((await reload()).status).toBe(200);
    await classifiesPizza();
  });
});

describe('a client reading its answer a byte a second', () => {
  let running: RunningApp;

  beforeAll(async () => {
    running = await startTestApp(FIXTURE_MODELS.food101Tflite, { INFERENCE_WORKERS: '1' });
  });

  afterAll(async () => {
    await running?.close();
  });

  it('does not hold up anyone else, and gets its whole answer', async () => {
    const port = Number(new URL(running.baseUrl).port);
    const socket = connect(port, '127.0.0.1');
    // The OpenAPI document (about 56 KB): more than the client takes in the whole test.
    socket.write('GET /docs-json HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
    // A 'readable' listener and no 'data' one: bytes are taken only when read() is called.
    const onReadable = () => undefined;
    socket.on('readable', onReadable);
    const received: Buffer[] = [];
    const reader = setInterval(() => {
      const byte = socket.read(1) as Buffer | null;
      if (byte) received.push(byte);
    }, 1_000);
    try {
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      for (let i = 0; i < 5; i++) {
        const started = performance.now();
        const response = await classify(running);
        expect(response.status).toBe(200);
        expect(performance.now() - started).toBeLessThan(5_000);
      }
      expect(received.length).toBeGreaterThanOrEqual(1);
      expect(Buffer.concat(received).toString('latin1')).toMatch(/^H/);
    } finally {
      clearInterval(reader);
    }
    // Then it reads at full speed: the answer arrives complete and intact.
    const rest = await new Promise<Buffer>((resolve) => {
      const chunks: Buffer[] = [...received];
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('end', () => resolve(Buffer.concat(chunks)));
      socket.off('readable', onReadable);
      socket.resume();
    });
    const text = rest.toString('utf8');
    expect(text).toMatch(/^HTTP\/1\.1 200/);
    const body = text.slice(text.indexOf('\r\n\r\n') + 4);
    expect((JSON.parse(body) as { openapi: string }).openapi).toMatch(/^3\./);
    expect(body.length).toBeGreaterThan(40_000);
  });
});
