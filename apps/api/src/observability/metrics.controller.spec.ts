import { Counter, Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controllerSetup, type ControllerApp } from '../../../../test/support/controller-setup';
import { MetricsController } from './metrics.controller';
import { createMetricsRegistry } from './metrics-registry';

// GET /metrics over the app's own registry: the Prometheus text format, what is registered, never cached.

let api: ControllerApp;
let registry: Registry;

beforeAll(async () => {
  registry = createMetricsRegistry();
  new Counter({ name: 'food_vision_spec_total', help: 'Counted by this spec.', registers: [registry] }).inc(
    3,
  );
  api = await controllerSetup([MetricsController], [{ provide: Registry, useValue: registry }]);
});

afterAll(() => api?.close());

describe('GET /metrics (controller alone)', () => {
  it('answers the registry in the Prometheus text format 0.0.4, not cached', async () => {
    const { status, headers, body } = await api.get('/metrics');
    expect(status).toBe(200);
    expect(headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(headers.get('cache-control')).toBe('no-store');
    expect(body).toContain('# TYPE food_vision_spec_total counter');
    expect(body).toMatch(/^food_vision_spec_total 3$/m);
    // The default process metrics are registered with the app's own.
    expect(body).toMatch(/^process_cpu_seconds_total /m);
  });
});
