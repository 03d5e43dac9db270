import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveBytes, startImageServer } from '../support/image-server';
import { FIXTURE_MODELS, foodPhotos, type FixtureModel } from '../support/shared-data';
import { startTestApp, type RunningApp } from '../support/test-app';

interface Manifest {
  name: string;
  version: string;
  files: Array<{ path: string; sha256?: string }>;
}

const FOOD101 = 'food101-mobilenet-v1-int8';
const THREE_CLASS = 'food101-3class-cnn';

/** Adds `<store>/<name>/<version>/` with the fixture's manifest (version rewritten) and links to its files. */
function addVersion(
  store: string,
  fixture: FixtureModel,
  version: string,
  edit: (m: Manifest) => void = () => {},
) {
  const manifest = JSON.parse(readFileSync(fixture.manifest, 'utf8')) as Manifest;
  manifest.version = version;
  edit(manifest);
  const dir = join(store, manifest.name, version);
  mkdirSync(dir, { recursive: true });
  for (const file of manifest.files)
    symlinkSync(join(fixture.dir, basename(file.path)), join(dir, file.path));
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
}

describe('a model store serving several models at once', () => {
  let store: string;
  let running: RunningApp;
  const pizza = readFileSync(foodPhotos().find((photo) => photo.file === 'pizza__1.jpg')!.path).toString(
    'base64',
  );

  const predict = async (body: Record<string, unknown>) => {
    const response = await fetch(`${running.baseUrl}/v1/predictions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ image: pizza, ...body }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, never> };
  };

  beforeAll(async () => {
    store = mkdtempSync(join(tmpdir(), 'model-store-'));
    addVersion(store, FIXTURE_MODELS.food101Tflite, '1');
    addVersion(store, FIXTURE_MODELS.food101ThreeClassTflite, '1');
    running = await startTestApp(FIXTURE_MODELS.food101Tflite, {
      MODEL_STORE: store,
      DEFAULT_MODEL: FOOD101,
      INFERENCE_WORKERS: '1',
    });
  });

  afterAll(async () => {
    await running?.close();
    rmSync(store, { recursive: true, force: true });
  });

  it('lists every model with its versions and readiness, default first', async () => {
    const body = (await (await fetch(`${running.baseUrl}/v1/models`)).json()) as { models: unknown[] };
    expect(body.models).toEqual([
      { name: FOOD101, version: '1', versions: ['1'], format: 'tflite', status: 'ready', default: true },
      { name: THREE_CLASS, version: '1', versions: ['1'], format: 'tflite', status: 'ready', default: false },
    ]);
    expect((await fetch(`${running.baseUrl}/health/ready`)).status).toBe(200);
  });

  it('routes each request to the model it names, the default otherwise', async () => {
    const byDefault = await predict({ top_k: 3 });
    expect(byDefault.status).toBe(200);
    expect(byDefault.body.model).toEqual({ name: FOOD101, version: '1' });
    expect((byDefault.body.predictions as Array<{ label: string }>)[0].label).toBe('pizza');

    const small = await predict({ model: THREE_CLASS, top_k: 3 });
    expect(small.status).toBe(200);
    expect(small.body.model).toEqual({ name: THREE_CLASS, version: '1' });
    const labels = (small.body.predictions as Array<{ label: string }>).map((prediction) => prediction.label);
    expect(labels.sort()).toEqual(['pizza', 'spaghetti_carbonara', 'tiramisu']);

    // top_k is bounded by the chosen model's labels; by default a 3-class model answers its 3 classes.
    expect((await predict({ model: THREE_CLASS, top_k: 4 })).body.code).toBe('validation_failed');
    expect((await predict({ model: THREE_CLASS })).body.predictions).toHaveLength(3);
    expect((await predict({})).body.predictions).toHaveLength(5);
  });

  it('answers the seed route with the default model', async () => {
    const images = await startImageServer({ '/pizza.jpg': serveBytes(Buffer.from(pizza, 'base64')) });
    try {
      const link = encodeURIComponent(images.url('/pizza.jpg'));
      const response = await fetch(`${running.baseUrl}/net/image/prediction/?image_link=${link}`, {
        method: 'POST',
      });
      expect(((await response.json()) as Record<string, string>)['model-prediction']).toBe('pizza');
    } finally {
      await images.close();
    }
  });

  it('refuses unknown models and versions that are not served', async () => {
    const unknown = await predict({ model: 'nope' });
    expect({ status: unknown.status, code: unknown.body.code }).toEqual({
      status: 404,
      code: 'model_not_found',
    });
    expect(unknown.body.detail).toContain(THREE_CLASS);
    const version = await predict({ model: THREE_CLASS, model_version: '7' });
    expect({ status: version.status, code: version.body.code }).toEqual({
      status: 404,
      code: 'model_version_not_found',
    });
    expect((await predict({ model: THREE_CLASS, model_version: '1' })).status).toBe(200);
  });

  it('reloads a new version under load without losing a request', async () => {
    addVersion(store, FIXTURE_MODELS.food101ThreeClassTflite, '2');
    const versionsSeen = new Set<string>();
    const statuses: number[] = [];
    let reloaded = false;
    const client = async () => {
      // Keep asking until the reload is done and one more answer came from the new version.
      for (let i = 0; i < 400 && !(reloaded && versionsSeen.has('2')); i++) {
        const { status, body } = await predict({ model: THREE_CLASS, top_k: 1 });
        statuses.push(status);
        if (status === 200) versionsSeen.add((body.model as { version: string }).version);
      }
    };
    const clients = Promise.all([client(), client(), client(), client()]);
    const reload = await fetch(`${running.baseUrl}/v1/models/${THREE_CLASS}/reload`, { method: 'POST' });
    reloaded = true;
    expect(reload.status).toBe(200);
    expect(await reload.json()).toMatchObject({
      name: THREE_CLASS,
      version: '2',
      versions: ['1', '2'],
      status: 'ready',
    });
    await clients;
    expect(statuses.length).toBeGreaterThan(4);
    expect(statuses.every((status) => status === 200)).toBe(true);
    expect([...versionsSeen].sort()).toEqual(['1', '2']);
  });

  it('keeps serving the old version when the new one cannot load', async () => {
    addVersion(store, FIXTURE_MODELS.food101ThreeClassTflite, '3', (manifest) => {
      manifest.files[0].sha256 = '0'.repeat(64);
    });
    const reload = await fetch(`${running.baseUrl}/v1/models/${THREE_CLASS}/reload`, { method: 'POST' });
    expect(reload.status).toBe(500);
    const problem = (await reload.json()) as { code: string; detail: string };
    expect(problem.code).toBe('model_reload_failed');
    expect(problem.detail).toMatch(/still serves its previous version: .*sha256/);
    const after = await predict({ model: THREE_CLASS, top_k: 1 });
    expect(after.status).toBe(200);
    expect(after.body.model).toEqual({ name: THREE_CLASS, version: '2' });
    expect((await fetch(`${running.baseUrl}/health/ready`)).status).toBe(200);
  });

  it('refuses to reload a model it does not serve', async () => {
    const response = await fetch(`${running.baseUrl}/v1/models/nope/reload`, { method: 'POST' });
    expect(response.status).toBe(404);
  });
});

describe('a model store watched for new versions (opt-in polling)', () => {
  it('swaps in a version folder that appears, without a request to reload', async () => {
    const store = mkdtempSync(join(tmpdir(), 'model-store-poll-'));
    addVersion(store, FIXTURE_MODELS.food101ThreeClassTflite, '1');
    const running = await startTestApp(FIXTURE_MODELS.food101Tflite, {
      MODEL_STORE: store,
      MODEL_STORE_POLL_SECONDS: '1',
      INFERENCE_WORKERS: '1',
    });
    try {
      addVersion(store, FIXTURE_MODELS.food101ThreeClassTflite, '5');
      let version = '1';
      for (let i = 0; i < 100 && version !== '5'; i++) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        const body = (await (await fetch(`${running.baseUrl}/v1/models/${THREE_CLASS}`)).json()) as {
          version: string;
        };
        version = body.version;
      }
      expect(version).toBe('5');
    } finally {
      await running.close();
      rmSync(store, { recursive: true, force: true });
    }
  });
});
