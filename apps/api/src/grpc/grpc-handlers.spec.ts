import { EventEmitter } from 'node:events';
import { createMetricsRegistry } from '../observability/metrics-registry';
import { Metadata, status, type handleUnaryCall, type ServiceError } from '@grpc/grpc-js';
import { Logger } from '@nestjs/common';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ServedModel } from '@app/inference';
import { testManifest } from '../../../../test/support/test-manifest';
import type { InferenceDataPlane } from '../data-plane/inference-data-plane';
import { ServingState } from '../data-plane/serving-state';
import { ShutdownState } from '../lifecycle/shutdown-state';
import { ApiKeySet } from '../security/api-key-set';
import type { CallWrapperDeps } from './grpc-call';
import { GrpcMetrics } from './grpc-metrics';
import { healthServiceHandlers, WATCH_POLL_MS } from './health-service.handlers';
import { inferenceServiceHandlers } from './inference-service.handlers';

// The gRPC handlers called as grpc-js calls them, over the real ServingState with a stubbed registry and data
// plane: statuses, the one readiness rule, Watch's stream, raw answers; no socket, no model.

const manifest = testManifest({ name: 'food', labels: ['apple_pie', 'pizza'] });
let readiness: { ready: boolean; reasons: Record<string, string> };
let state: ServedModel['state'];
const registry = {
  readiness: () => readiness,
  servedModels: (): ServedModel[] => [{ name: 'food', isDefault: true, versions: ['1'], state }],
  stateOf: (name: string) => {
    if (name !== 'food') throw Object.assign(new Error('unknown'), { name: 'x' });
    return registry.servedModels()[0];
  },
};
const shutdown = new ShutdownState();
const serving = new ServingState(registry as never, shutdown);
const infer = vi.fn();
const wrap: CallWrapperDeps = {
  keys: new ApiKeySet([]),
  metrics: new GrpcMetrics(createMetricsRegistry()),
  logger: new Logger('spec'),
  track: () => undefined,
  tracing: false,
};
const inference = inferenceServiceHandlers(wrap, {
  serving,
  dataPlane: { infer } as unknown as InferenceDataPlane,
});
const health = healthServiceHandlers(wrap, { serving });

/** A unary call as grpc-js hands it to a handler, answered through the callback. */
function call<Request, Response>(
  handler: handleUnaryCall<Request, Response>,
  request: object,
): Promise<{ error?: Partial<ServiceError>; response?: Response | null }> {
  const fake = Object.assign(new EventEmitter(), {
    request,
    metadata: new Metadata(),
    getDeadline: () => Infinity,
  });
  return new Promise((resolve) =>
    handler(fake as never, (error, response) => resolve(error ? { error } : { response })),
  );
}

beforeEach(() => {
  readiness = { ready: true, reasons: {} };
  state = { status: 'ready', manifest, model: { runtime: { engine: 'litert', backend: 'wasm' } } } as never;
  infer.mockReset();
});

afterAll(() => vi.useRealTimers());

describe('the gRPC handlers (stubbed registry and data plane)', () => {
  it('answers ServerLive, ServerReady and ModelReady by the data plane’s one rule', async () => {
    expect((await call(inference.ServerLive, {})).response).toEqual({ live: true });
    expect((await call(inference.ServerReady, {})).response).toEqual({ ready: true });
    expect((await call(inference.ModelReady, { name: 'food', version: '' })).response).toEqual({
      ready: true,
    });
    readiness = { ready: false, reasons: { food: 'The model is still loading.' } };
    state = { status: 'loading', manifest };
    expect((await call(inference.ServerReady, {})).response).toEqual({ ready: false });
    expect((await call(inference.ModelReady, { name: 'food', version: '' })).response).toEqual({
      ready: false,
    });
    const unnamed = await call(inference.ModelReady, { name: '', version: '' });
    expect(unnamed.error).toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: expect.stringMatching(/name is required/),
    });
  });

  it('hands ModelInfer to the data plane as protocol grpc, and answers raw outputs for raw inputs', async () => {
    infer.mockResolvedValue({
      model_name: 'food',
      model_version: '1',
      outputs: [
        { name: 'probabilities', shape: [1, 2], datatype: 'FP32', data: Float32Array.of(0.25, 0.75) },
      ],
    });
    const raw = Buffer.from(Uint8Array.of(1, 2, 3));
    const { response } = await call(inference.ModelInfer, {
      model_name: 'food',
      model_version: '',
      id: '',
      parameters: {},
      inputs: [{ name: 'input', datatype: 'UINT8', shape: [1, 1, 1, 3], parameters: {}, contents: null }],
      outputs: [],
      raw_input_contents: [raw],
    });
    expect(infer).toHaveBeenCalledWith(
      {
        inputs: [
          { name: 'input', datatype: 'UINT8', shape: [1, 1, 1, 3], data: { form: 'raw', bytes: raw } },
        ],
        outputs: [],
      },
      expect.objectContaining({ protocol: 'grpc', name: 'food' }),
    );
    expect([...new Float32Array(new Uint8Array(response!.raw_output_contents[0]).buffer)]).toEqual([
      0.25, 0.75,
    ]);
  });

  it('answers health Check for the server and the inference service, NOT_FOUND for another', async () => {
    expect((await call(health.Check, { service: '' })).response).toEqual({ status: 'SERVING' });
    readiness = { ready: false, reasons: { food: 'loading' } };
    expect((await call(health.Check, { service: 'inference.GRPCInferenceService' })).response).toEqual({
      status: 'NOT_SERVING',
    });
    expect((await call(health.Check, { service: 'other' })).error).toMatchObject({ code: status.NOT_FOUND });
  });

  // Last: draining cannot be undone.
  it('streams Watch: the status at once, each change, SERVICE_UNKNOWN for another service, and ends on drain', async () => {
    vi.useFakeTimers();
    const stream = (service: string) => {
      const writes: string[] = [];
      let ended = false;
      const fake = Object.assign(new EventEmitter(), {
        request: { service },
        write: (message: { status: string }) => writes.push(message.status),
        end: () => (ended = true),
      });
      health.Watch(fake as never);
      return { writes, ended: () => ended };
    };
    readiness = { ready: false, reasons: { food: 'loading' } };
    const server = stream('');
    const unknown = stream('other');
    expect(server.writes).toEqual(['NOT_SERVING']);
    expect(unknown.writes).toEqual(['SERVICE_UNKNOWN']);
    readiness = { ready: true, reasons: {} };
    await vi.advanceTimersByTimeAsync(WATCH_POLL_MS);
    expect(server.writes).toEqual(['NOT_SERVING', 'SERVING']);
    await vi.advanceTimersByTimeAsync(WATCH_POLL_MS * 5);
    expect(server.writes).toHaveLength(2);
    shutdown.begin('SIGTERM');
    await vi.advanceTimersByTimeAsync(WATCH_POLL_MS);
    expect(server.writes).toEqual(['NOT_SERVING', 'SERVING', 'NOT_SERVING']);
    expect(server.ended()).toBe(true);
    expect(unknown.writes).toEqual(['SERVICE_UNKNOWN']);
    expect(unknown.ended()).toBe(true);
  });
});
