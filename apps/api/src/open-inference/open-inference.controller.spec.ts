import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ModelRegistry, type ModelManifest, type ServedModel } from '@app/inference';
import { problem } from '@app/problem';
import { controllerSetup, type ControllerApp } from '../../../../test/support/controller-setup';
import { InferenceDataPlane } from '../data-plane/inference-data-plane';
import { ServingState } from '../data-plane/serving-state';
import { ShutdownState } from '../lifecycle/shutdown-state';
import { OpenInferenceController } from './open-inference.controller';

// The /v2 REST front-end over a stubbed registry and data plane: routes, the route pairs, and the protocol's
// `{"error"}` answers, without a model or ../shared.

const manifest = {
  name: 'food',
  version: '2',
  format: 'tflite',
  input: { height: 224, width: 224, channels: 3, dtype: 'uint8' },
  labels: ['apple_pie', 'pizza', 'sushi'],
} as unknown as ModelManifest;

let state: ServedModel['state'];
let readiness: { ready: boolean; reasons: Record<string, string> };
const infer = vi.fn(() => Promise.resolve({ model_name: 'food', model_version: '2', outputs: [] }));

const registry = {
  stateOf(name: string): ServedModel {
    if (name !== 'food')
      throw problem('model_not_found', `There is no model named "${name}"; this service serves: food.`);
    return { name, isDefault: true, versions: ['2'], state };
  },
  readiness: () => readiness,
  servedModels: (): ServedModel[] => [{ name: 'food', isDefault: true, versions: ['2'], state }],
};

let api: ControllerApp;
let base: string;
const shutdown = new ShutdownState();

beforeAll(async () => {
  api = await controllerSetup(
    [OpenInferenceController],
    [
      { provide: ModelRegistry, useValue: registry },
      { provide: InferenceDataPlane, useValue: { infer } },
      { provide: ShutdownState, useValue: shutdown },
      ServingState,
    ],
    { MAX_IMAGE_BYTES: 1024 * 1024, MAX_JSON_DEPTH: 64 },
  );
  base = api.base;
});

afterAll(() => api?.close());

beforeEach(() => {
  state = { status: 'loading', manifest };
  readiness = { ready: true, reasons: {} };
  infer.mockClear();
});

async function get(path: string) {
  const response = await fetch(`${base}${path}`);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('the /v2 REST front-end (stubbed registry and data plane)', () => {
  it('answers server metadata, liveness and readiness as the protocol says', async () => {
    expect(await get('/v2')).toEqual({
      status: 200,
      body: expect.objectContaining({
        name: 'food-vision-api',
        extensions: ['classification', 'binary_tensor_data'],
      }),
    });
    expect(await get('/v2/health/live')).toEqual({ status: 200, body: { live: true } });
    expect(await get('/v2/health/ready')).toEqual({ status: 200, body: { ready: true } });
    readiness = { ready: false, reasons: { food: 'The model is still loading.' } };
    expect(await get('/v2/health/ready')).toEqual({
      status: 400,
      body: { error: 'food: The model is still loading.' },
    });
  });

  it('answers model readiness with the reason on both routes of the pair, and a wrong version with 404', async () => {
    for (const path of ['/v2/models/food/ready', '/v2/models/food/versions/2/ready']) {
      expect(await get(path)).toEqual({
        status: 400,
        body: { error: 'Model food is still loading; retry in a few seconds.' },
      });
    }
    const wrong = await get('/v2/models/food/versions/7/ready');
    expect(wrong.status).toBe(404);
    expect(wrong.body.error).toMatch(/Model food serves version 2, not 7/);
    expect((await get('/v2/models/pasta')).status).toBe(404);
  });

  it('describes the model on both routes of the pair once its manifest is read', async () => {
    for (const path of ['/v2/models/food', '/v2/models/food/versions/2']) {
      const { status, body } = await get(path);
      expect(status).toBe(200);
      expect(body).toMatchObject({
        name: 'food',
        versions: ['2'],
        platform: 'tensorflow_tflite',
        outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [-1, 3] }],
      });
    }
  });

  it('hands an infer request to the data plane with the name and the version of its route', async () => {
    const body = { inputs: [{ name: 'image', datatype: 'BYTES', shape: [1], data: ['cGhvdG8='] }] };
    for (const [path, version] of [
      ['/v2/models/food/infer', undefined],
      ['/v2/models/food/versions/2/infer', '2'],
    ] as const) {
      const response = await fetch(`${base}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(response.status).toBe(200);
      expect(infer).toHaveBeenLastCalledWith(
        {
          inputs: [
            { name: 'image', datatype: 'BYTES', shape: [1], data: { form: 'values', values: ['cGhvdG8='] } },
          ],
        },
        expect.objectContaining({
          protocol: 'v2',
          name: 'food',
          signal: expect.any(AbortSignal),
          ...(version ? { version } : {}),
        }),
      );
    }
  });

  it('answers an invalid infer body with 400 {"error"} before the data plane sees it', async () => {
    const response = await fetch(`${base}/v2/models/food/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: 'not a list' }),
    });
    expect(response.status).toBe(400);
    expect(Object.keys((await response.json()) as object)).toEqual(['error']);
    expect(infer).not.toHaveBeenCalled();
  });

  // Last: draining cannot be undone.
  it('answers server and model readiness as not ready once the server drains, on both routes', async () => {
    state = { status: 'ready', manifest } as unknown as ServedModel['state'];
    expect((await get('/v2/models/food/ready')).status).toBe(200);
    shutdown.begin('SIGTERM');
    for (const path of ['/v2/health/ready', '/v2/models/food/ready', '/v2/models/food/versions/2/ready']) {
      const { status, body } = await get(path);
      expect(status).toBe(400);
      expect(body.error).toMatch(/shutting down \(SIGTERM\)/);
    }
    expect(await get('/v2/health/live')).toEqual({ status: 200, body: { live: true } });
  });
});
