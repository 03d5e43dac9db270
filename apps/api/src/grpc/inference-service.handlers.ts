import { ModelRegistry } from '@app/inference';
import { problem } from '@app/problem';
import type { InferenceDataPlane } from '../data-plane/inference-data-plane';
import { servedModel, toV2ModelMetadata } from '../data-plane/served-model';
import type { ShutdownState } from '../lifecycle/shutdown-state';
import { API_VERSION } from '../common/api-version';
import { type CallWrapperDeps, unary } from './grpc-call';
import { type ModelInferRequest, toInferenceRequest, toModelInferResponse } from './infer-messages';

const SERVICE = 'inference.GRPCInferenceService';

export interface InferenceServiceDeps {
  models: ModelRegistry;
  dataPlane: InferenceDataPlane;
  shutdown: ShutdownState;
}

interface ModelRef {
  name: string;
  version: string;
}

function namedModel(deps: InferenceServiceDeps, { name, version }: ModelRef) {
  if (!name) throw problem('validation_failed', 'name is required: name the model.');
  return servedModel(deps.models, name, version || undefined);
}

/** True when every model is loaded and warm and the process is not shutting down (GET /v2/health/ready's rule). */
export function serverReady({
  models,
  shutdown,
}: Pick<InferenceServiceDeps, 'models' | 'shutdown'>): boolean {
  return !shutdown.draining && models.readiness().ready;
}

/**
 * GRPCInferenceService (open_inference_grpc.proto) on the shared data plane: the same models, checks, queue and
 * classification extension as REST /v2. Health answers (ServerLive/Ready, ModelReady) are public, like the HTTP probes.
 */
export function inferenceServiceHandlers(wrap: CallWrapperDeps, deps: InferenceServiceDeps) {
  const method = (name: string) => `${SERVICE}/${name}`;
  return {
    ServerLive: unary(wrap, method('ServerLive'), { public: true }, () => ({ live: true })),
    ServerReady: unary(wrap, method('ServerReady'), { public: true }, () => ({ ready: serverReady(deps) })),
    ModelReady: unary(wrap, method('ModelReady'), { public: true }, (request: ModelRef) => ({
      ready: !deps.shutdown.draining && namedModel(deps, request).state.status === 'ready',
    })),
    ServerMetadata: unary(wrap, method('ServerMetadata'), { public: false }, () => ({
      name: 'food-vision-api',
      version: API_VERSION,
      extensions: ['classification'],
    })),
    ModelMetadata: unary(wrap, method('ModelMetadata'), { public: false }, (request: ModelRef) => ({
      ...toV2ModelMetadata(namedModel(deps, request)),
      properties: {},
    })),
    ModelInfer: unary(
      wrap,
      method('ModelInfer'),
      { public: false },
      async (request: ModelInferRequest, { signal }) => {
        const { model, version, body } = toInferenceRequest(request);
        const response = await deps.dataPlane.infer(model, version, body, signal);
        return toModelInferResponse(response, (request.raw_input_contents ?? []).length > 0);
      },
    ),
  };
}
