import { problem } from '@app/problem';
import { type CallWrapperDeps, unary } from './grpc-call';
import { type InferenceServiceDeps, serverReady } from './inference-service.handlers';

const SERVICE = 'grpc.health.v1.Health';
/** The names Check answers for: "" (the server as a whole) and the inference service. */
export const HEALTH_SERVICES = ['', 'inference.GRPCInferenceService'];

/**
 * grpc.health.v1.Health, so Kubernetes gRPC probes and grpc-health-probe work: SERVING once every model is ready,
 * NOT_SERVING while loading or draining (readiness semantics; probe liveness over HTTP /v2/health/live).
 * Watch is not implemented (UNIMPLEMENTED, which the protocol tells clients not to retry).
 */
export function healthServiceHandlers(
  wrap: CallWrapperDeps,
  deps: Pick<InferenceServiceDeps, 'models' | 'shutdown'>,
) {
  const current = () => (serverReady(deps) ? 'SERVING' : 'NOT_SERVING');
  return {
    Check: unary(wrap, `${SERVICE}/Check`, { public: true }, ({ service }: { service: string }) => {
      if (!HEALTH_SERVICES.includes(service)) {
        throw problem(
          'not_found',
          `There is no service "${service}" here; ask for "" or "inference.GRPCInferenceService".`,
        );
      }
      return { status: current() };
    }),
    List: unary(wrap, `${SERVICE}/List`, { public: true }, () => ({
      statuses: Object.fromEntries(HEALTH_SERVICES.map((service) => [service, { status: current() }])),
    })),
  };
}
