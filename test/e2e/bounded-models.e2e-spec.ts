/**
 * Many models in bounded memory: a store of 30 models (the two real Food-101 int8 models copied under 30 names),
 * MODEL_STORE_MAX_LOADED=3. In a shuffled order every model answers the photo right, never more than three are in
 * memory, the default model stays loaded, unloaded models are listed as such, and no request fails except with the
 * documented 503 `model_loading` (then retried after its Retry-After).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE_MODELS, foodPhotos } from '../support/shared-data';
import { addModelVersion } from '../support/version-store';
import { startTestApp, type RunningApp } from '../support/test-app';

const MODELS = 30;
const MAX_LOADED = 3;
/** RSS of this test process (the app, its workers and the runner) with three models in memory; docs/models.md. */
const RSS_BOUND_MB = 1200;
/** Deterministic shuffle (a fixed seed: the same order every run). */
function shuffled<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let state = seed;
  for (let index = out.length - 1; index > 0; index--) {
    state = (state * 1103515245 + 12345) >>> 0;
    const other = state % (index + 1);
    [out[index], out[other]] = [out[other], out[index]];
  }
  return out;
}

describe('30 models, at most 3 in memory', () => {
  let store: string;
  let api: RunningApp;
  const names = Array.from({ length: MODELS }, (_, index) => `food-${String(index).padStart(2, '0')}`);
  const pizza = readFileSync(foodPhotos().find((photo) => photo.file === 'pizza__1.jpg')!.path).toString(
    'base64',
  );

  beforeAll(async () => {
    store = mkdtempSync(join(tmpdir(), 'bounded-store-'));
    for (const [index, name] of names.entries()) addModelVersion(store, name, '1', { v2: index % 2 === 1 });
    api = await startTestApp(FIXTURE_MODELS.food101Tflite, {
      MODEL_STORE: store,
      DEFAULT_MODEL: names[0],
      MODEL_STORE_MAX_LOADED: String(MAX_LOADED),
      INFERENCE_WORKERS: '1',
      // No waiting: the first request to an unloaded model gets the 503, the test retries as a client would.
      MODEL_LOAD_WAIT_SECONDS: '0',
      MODEL_WARMUP: 'false',
    });
  }, 120_000);

  afterAll(async () => {
    await api?.close();
    rmSync(store, { recursive: true, force: true });
  });

  const resident = async () => {
    const metrics = await (await fetch(`${api.baseUrl}/metrics`)).text();
    return Number(/^food_vision_models_resident (\d+)/m.exec(metrics)?.[1]);
  };

  it('starts with the default model alone in memory, ready, every other model listed as unloaded', async () => {
    expect((await fetch(`${api.baseUrl}/health/ready`)).status).toBe(200);
    const { models } = (await (await fetch(`${api.baseUrl}/v1/models`)).json()) as {
      models: Array<{ name: string; status: string }>;
    };
    expect(models).toHaveLength(MODELS);
    expect(models.find((model) => model.name === names[0])?.status).toBe('ready');
    expect(models.filter((model) => model.status === 'unloaded')).toHaveLength(MODELS - 1);
    expect(await resident()).toBe(1);
  });

  it('answers every model right in a shuffled order, never more than three loaded', async () => {
    const order = shuffled([...names, ...names.slice(0, 8)], 42);
    let retried = 0;
    for (const name of order) {
      let response: Response;
      for (;;) {
        response = await fetch(`${api.baseUrl}/v1/predictions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ image: pizza, model: name, top_k: 1 }),
        });
        if (response.status !== 503) break;
        const problem = (await response.json()) as { code: string };
        expect(problem.code, JSON.stringify(problem)).toBe('model_loading');
        expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
        retried++;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(response.status, name).toBe(200);
      const body = (await response.json()) as {
        model: { name: string };
        predictions: Array<{ label: string }>;
      };
      expect(body.model.name).toBe(name);
      expect(body.predictions[0].label).toBe('pizza');
      expect(await resident()).toBeLessThanOrEqual(MAX_LOADED);
    }
    const metrics = await (await fetch(`${api.baseUrl}/metrics`)).text();
    const total = (metric: string) =>
      [...metrics.matchAll(new RegExp(`^food_vision_${metric}\\{[^}]*\\} (\\d+)`, 'gm'))].reduce(
        (sum, match) => sum + Number(match[1]),
        0,
      );
    const rss = process.memoryUsage().rss / 2 ** 20;
    console.info(
      `${order.length} requests over ${MODELS} models: ${total('model_loads_total')} loads, ${total('model_evictions_total')} evictions, ${retried} retried 503s, RSS ${Math.round(rss)} MB`,
    );
    expect(total('model_loads_total')).toBeGreaterThanOrEqual(MODELS - 1);
    expect(total('model_evictions_total')).toBeGreaterThan(0);
    expect(retried).toBeGreaterThan(0);
    expect(rss).toBeLessThan(RSS_BOUND_MB);
    // The default model was never unloaded.
    const { models } = (await (await fetch(`${api.baseUrl}/v1/models`)).json()) as {
      models: Array<{ name: string; status: string }>;
    };
    expect(models.find((model) => model.name === names[0])?.status).toBe('ready');
    expect(models.filter((model) => model.status === 'ready').length).toBeLessThanOrEqual(MAX_LOADED);
  }, 240_000);
});
