import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ServedModel } from '@app/inference';
import { controllerSetup, type ControllerApp } from '../../../../test/support/controller-setup';
import { ServingState } from '../data-plane/serving-state';
import { ShutdownState } from '../lifecycle/shutdown-state';
import { HealthController } from './health.controller';

// The /health probes over the real ServingState with a stubbed registry: the one readiness rule as Kubernetes
// and Heroku read it, without a model.

let readiness: { ready: boolean; reasons: Record<string, string> };
const ready = { status: 'ready', model: { runtime: { engine: 'litert', backend: 'wasm-xnnpack' } } };
const registry = {
  readiness: () => readiness,
  servedModels: (): ServedModel[] => [
    { name: 'food', isDefault: true, versions: ['1'], state: ready as unknown as ServedModel['state'] },
  ],
};
const shutdown = new ShutdownState();
let api: ControllerApp;

beforeAll(async () => {
  api = await controllerSetup(
    [HealthController],
    [
      { provide: ServingState, useValue: new ServingState(registry as never, shutdown) },
      { provide: ShutdownState, useValue: shutdown },
    ],
  );
});

afterAll(() => api?.close());

beforeEach(() => {
  readiness = { ready: true, reasons: {} };
});

describe('the /health probes', () => {
  it('answers liveness without looking at the model, never cached', async () => {
    readiness = { ready: false, reasons: { food: 'The model is still loading.' } };
    const live = await api.get('/health/live');
    expect(live).toMatchObject({ status: 200, body: { status: 'ok', details: {} } });
    expect(live.headers.get('cache-control')).toMatch(/no-store/);
  });

  it('is ready with the served model, its engine and backend', async () => {
    const answer = await api.get('/health/ready');
    expect(answer).toMatchObject({
      status: 200,
      body: {
        status: 'ok',
        details: {
          lifecycle: { status: 'up' },
          model: { status: 'up', name: 'food', engine: 'litert', backend: 'wasm-xnnpack' },
        },
      },
    });
  });

  it('is 503 model_not_ready with Retry-After and each model’s reason while one loads', async () => {
    readiness = { ready: false, reasons: { food: 'The model is still loading.' } };
    const answer = await api.get('/health/ready');
    expect(answer.status).toBe(503);
    expect(answer.headers.get('retry-after')).toBe('5');
    expect(answer.body).toMatchObject({
      code: 'model_not_ready',
      detail: 'food: The model is still loading.',
      checks: {
        lifecycle: { status: 'up' },
        model: { status: 'down', models: { food: 'The model is still loading.' } },
      },
    });
  });

  // Last: draining cannot be undone.
  it('is 503 shutting_down from the signal on, whatever the models', async () => {
    shutdown.begin('SIGTERM');
    const answer = await api.get('/health/ready');
    expect(answer.status).toBe(503);
    expect(answer.body).toMatchObject({
      code: 'shutting_down',
      detail: expect.stringMatching(/shutting down \(SIGTERM\)/),
      checks: { lifecycle: { status: 'down' }, model: { status: 'up' } },
    });
    expect((await api.get('/health/live')).status).toBe(200);
  });
});
