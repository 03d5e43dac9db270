import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ModelRegistry, type InferenceStats } from '@app/inference';
import { FIXTURE_MODELS, foodPhotos } from '../support/shared-data';
import { startTestApp, type RunningApp } from '../support/test-app';

/**
 * Backpressure, deadlines, client disconnects and worker crashes, on one worker running the TF.js MobileNetV2
 * on the pure-JS backend: about a second per image, so the test can see requests running and queued and act
 * while they are (the waits below watch the queue's state; nothing depends on how long anything takes).
 */
process.env.TFJS_BACKEND = 'cpu';

const SLOW = { INFERENCE_WORKERS: '1', INFERENCE_FLOAT_ENGINE: 'tfjs', MODEL_WARMUP: 'false' };
const photo = readFileSync(foodPhotos()[0].path);

function post(app: RunningApp, signal?: AbortSignal): Promise<Response> {
  return fetch(`${app.baseUrl}/v1/predictions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ image: photo.toString('base64'), top_k: 1 }),
    signal,
  });
}

const stats = (app: RunningApp): InferenceStats => app.app.get(ModelRegistry).ready().inference.stats();
const waitUntil = (check: () => void) => vi.waitFor(check, { timeout: 30_000, interval: 5 });

describe('one busy worker with room for one waiting request', () => {
  let running: RunningApp;

  beforeAll(async () => {
    running = await startTestApp(FIXTURE_MODELS.mobilenetV2Tfjs, {
      ...SLOW,
      INFERENCE_QUEUE_SIZE: '1',
      INFERENCE_TIMEOUT_MS: '60000',
    });
  });

  afterAll(async () => {
    await running?.close();
  });

  afterEach(async () => {
    await waitUntil(() => expect(stats(running)).toMatchObject({ running: 0, queued: 0 }));
  });

  it('runs on tfjs in one worker (the slow engine these tests need)', () => {
    expect(running.app.get(ModelRegistry).ready().runtime).toMatchObject({
      engine: 'tfjs',
      backend: 'cpu',
      workers: 1,
    });
  });

  it('answers 503 overloaded with Retry-After at once when the queue is full, and serves those it admitted', async () => {
    const first = post(running);
    await waitUntil(() => expect(stats(running).running).toBe(1));
    const second = post(running);
    await waitUntil(() => expect(stats(running).queued).toBe(1));
    const refused = await post(running);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await refused.json()).toMatchObject({ status: 503, code: 'overloaded' });
    const answered = await Promise.all([first, second]);
    expect(answered.map((response) => response.status)).toEqual([200, 200]);
    const bodies = (await Promise.all(answered.map((response) => response.json()))) as Array<{
      predictions: Array<{ label: string }>;
    }>;
    expect(bodies.map((body) => body.predictions[0].label)).toEqual(['Neutral', 'Neutral']);
  });

  it('never computes a request whose client disconnected while it waited', async () => {
    const before = stats(running);
    const first = post(running);
    await waitUntil(() => expect(stats(running).running).toBe(1));
    const client = new AbortController();
    const abandoned = post(running, client.signal).catch((error: unknown) => error);
    await waitUntil(() => expect(stats(running).queued).toBe(1));
    client.abort();
    expect(await abandoned).toMatchObject({ name: 'AbortError' });
    await waitUntil(() => expect(stats(running).abandoned).toBe(before.abandoned + 1));
    expect((await first).status).toBe(200);
    expect(stats(running).started).toBe(before.started + 1);
    expect(stats(running).completed).toBe(before.completed + 1);
  });

  it('survives a worker that dies mid-request: that request gets a 503 problem, the next one an answer', async () => {
    const pool = running.app.get(ModelRegistry).ready().inference.pool!;
    const [threadId] = pool.threadIds();
    const doomed = post(running);
    await waitUntil(() => expect(pool.stats().busy).toBe(1));
    await pool.replaceWorker(threadId);
    const failed = await doomed;
    expect(failed.status).toBe(503);
    expect(failed.headers.get('retry-after')).toBe('1');
    expect(await failed.json()).toMatchObject({ status: 503, code: 'inference_worker_failed' });
    const next = await post(running);
    expect(next.status).toBe(200);
    expect(pool.threadIds()).not.toContain(threadId);
    expect(pool.stats().crashes).toBe(1);
  });
});

describe('a deadline shorter than one inference', () => {
  let running: RunningApp;

  beforeAll(async () => {
    running = await startTestApp(FIXTURE_MODELS.mobilenetV2Tfjs, { ...SLOW, INFERENCE_TIMEOUT_MS: '100' });
  });

  afterAll(async () => {
    await running?.close();
  });

  it('answers 503 inference_timeout with Retry-After instead of making the client wait', async () => {
    const response = await post(running);
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).not.toBeNull();
    expect(await response.json()).toMatchObject({ status: 503, code: 'inference_timeout' });
    await waitUntil(() => expect(stats(running)).toMatchObject({ running: 0, timedOut: 1 }));
  });
});
