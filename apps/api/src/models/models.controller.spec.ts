import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ModelManifest, ServedModel } from '@app/inference';
import { problem } from '@app/problem';
import { controllerSetup, type ControllerApp } from '../../../../test/support/controller-setup';
import { testManifest } from '../../../../test/support/test-manifest';
import { DriftMonitor } from '../data-plane/metrics/drift-monitor';
import { ServingState } from '../data-plane/serving-state';
import { ModelsController } from './models.controller';

// /v1/models over a stubbed serving state: list, describe and reload as a client reads them, without a model.

const manifest: ModelManifest = testManifest({ name: 'food', version: '2', labels: ['apple_pie', 'pizza'] });
const readyModel = {
  status: 'ready',
  manifest,
  model: {
    runtime: { engine: 'litert', backend: 'wasm-xnnpack' },
    resolved: {
      manifest,
      labels: ['apple_pie', 'pizza'],
      displayNames: ['apple pie', 'pizza'],
      sha256: 'ab',
    },
    loadedAt: new Date('2026-12-06T10:00:00Z'),
    loadMs: 812.4,
    warmupMs: 20.6,
  },
} as unknown as ServedModel['state'];
const food: ServedModel = { name: 'food', isDefault: true, versions: ['1', '2'], state: readyModel };
const pasta: ServedModel = {
  name: 'pasta',
  isDefault: false,
  versions: ['1'],
  state: { status: 'failed', reason: 'pasta.tflite is missing.' },
};
const known = (name: string): ServedModel => {
  if (name === 'food') return food;
  if (name === 'pasta') return pasta;
  throw problem('model_not_found', `There is no model named "${name}"; this service serves: food, pasta.`);
};
const serving = {
  list: () => [food, pasta],
  model: known,
  reload: vi.fn((name: string) => {
    if (name === 'pasta') {
      return Promise.reject(
        problem('model_reload_failed', 'Model pasta was not reloaded: its file is missing.'),
      );
    }
    return Promise.resolve(known(name));
  }),
};
let api: ControllerApp;

beforeAll(async () => {
  api = await controllerSetup(
    [ModelsController],
    [
      { provide: ServingState, useValue: serving },
      {
        provide: DriftMonitor,
        useValue: { status: () => ({ status: 'no_reference', reason: 'stub', window: {}, thresholds: {} }) },
      },
    ],
  );
});

afterAll(() => api?.close());

describe('/v1/models (stubbed serving state)', () => {
  it('lists every model, default first, with its status and the reason of a failed one', async () => {
    expect(await api.get('/v1/models')).toEqual({
      status: 200,
      headers: expect.anything(),
      body: {
        models: [
          {
            name: 'food',
            version: '2',
            versions: ['1', '2'],
            format: 'tflite',
            status: 'ready',
            default: true,
          },
          {
            name: 'pasta',
            version: '1',
            versions: ['1'],
            status: 'failed',
            reason: 'pasta.tflite is missing.',
            default: false,
          },
        ],
      },
    });
  });

  it('describes a ready model: runtime, input with its resize fidelity, labels in order, load times', async () => {
    const { status, body } = await api.get('/v1/models/food');
    expect(status).toBe(200);
    expect(body).toMatchObject({
      name: 'food',
      runtime: { engine: 'litert', backend: 'wasm-xnnpack' },
      input: {
        height: 224,
        width: 224,
        resize: { method: 'bilinear', fit: 'fill', fidelity: expect.any(String) },
      },
      label_count: 2,
      labels: [
        { index: 0, label: 'apple_pie', display_name: 'apple pie' },
        { index: 1, label: 'pizza', display_name: 'pizza' },
      ],
      loaded_at: '2026-12-06T10:00:00.000Z',
      load_ms: 812,
      warmup_ms: 21,
    });
  });

  it('answers an unknown model with a 404 problem that names the models there are', async () => {
    const { status, body } = await api.get('/v1/models/sushi');
    expect(status).toBe(404);
    expect(body).toMatchObject({ code: 'model_not_found', detail: expect.stringContaining('food, pasta') });
  });

  it('reloads through the serving state, and says why when the new files cannot be served', async () => {
    const reloaded = await fetch(`${api.base}/v1/models/food/reload`, { method: 'POST' });
    expect(reloaded.status).toBe(200);
    expect(serving.reload).toHaveBeenLastCalledWith('food');
    const failed = await fetch(`${api.base}/v1/models/pasta/reload`, { method: 'POST' });
    expect(failed.status).toBe(500);
    expect(await failed.json()).toMatchObject({ code: 'model_reload_failed' });
  });
});
