import { problem } from '@app/problem';
import type { InferenceDataPlane } from '../data-plane/inference-data-plane';
import type { ServingState } from '../data-plane/serving-state';
import { API_VERSION } from '../common/api-version';
import { type CallWrapperDeps, unary } from './grpc-call';
import { type ModelInferRequest, toInferenceRequest, toModelInferResponse } from './infer-messages';
import { resolveRequestId } from '../observability/request-id';
import { clientRoutingKey, ROUTING_KEY_HEADER } from '../data-plane/rollout/routing-key';

const SERVICE = 'inference.GRPCInferenceService';

export interface InferenceServiceDeps {
  serving: ServingState;
  dataPlane: InferenceDataPlane;
}

interface ModelRef {
  name: string;
  version: string;
}

function named({ name, version }: ModelRef): { name: string; version?: string } {
  if (!name) throw problem('validation_failed', 'name is required: name the model.');
  return { name, ...(version ? { version } : {}) };
}

/**
 * GRPCInferenceService (open_inference_grpc.proto) on the shared data plane: the same models, checks, queue and
 * classification extension as REST /v2. Health answers (ServerLive/Ready, ModelReady) are public, like the HTTP probes.
 */
export function inferenceServiceHandlers(wrap: CallWrapperDeps, deps: InferenceServiceDeps) {
  const method = (name: string) => `${SERVICE}/${name}`;
  return {
    ServerLive: unary(wrap, method('ServerLive'), { public: true }, () => ({ live: true })),
    ServerReady: unary(wrap, method('ServerReady'), { public: true }, () => ({
      ready: deps.serving.readiness().ready,
    })),
    ModelReady: unary(wrap, method('ModelReady'), { public: true }, (request: ModelRef) => {
      const { name, version } = named(request);
      return { ready: deps.serving.modelReadiness(name, version).ready };
    }),
    ServerMetadata: unary(wrap, method('ServerMetadata'), { public: false }, () => ({
      name: 'food-vision-api',
      version: API_VERSION,
      extensions: ['classification'],
    })),
    ModelMetadata: unary(wrap, method('ModelMetadata'), { public: false }, (request: ModelRef) => {
      const { name, version } = named(request);
      return { ...deps.serving.metadata(name, version), properties: {} };
    }),
    ModelInfer: unary(
      wrap,
      method('ModelInfer'),
      { public: false },
      async (request: ModelInferRequest, { signal, metadata }) => {
        const { model, version, body } = toInferenceRequest(request);
        const requestId = resolveRequestId(metadata.get('x-request-id')[0]?.toString());
        const response = await deps.dataPlane.infer(body, {
          protocol: 'grpc',
          name: model,
          version,
          signal,
          requestId,
          routingKey: clientRoutingKey(metadata.get(ROUTING_KEY_HEADER)[0]?.toString()),
        });
        return toModelInferResponse(response, (request.raw_input_contents ?? []).length > 0);
      },
    ),
  };
}
