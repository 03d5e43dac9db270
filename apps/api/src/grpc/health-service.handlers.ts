import { status, type ServerWritableStream } from '@grpc/grpc-js';
import { problem } from '@app/problem';
import type { ServerReadiness, ServingState } from '../data-plane/serving-state';
import { type CallWrapperDeps, unary } from './grpc-call';

const SERVICE = 'grpc.health.v1.Health';
/** The names Check answers for: "" (the server as a whole) and the inference service. */
export const HEALTH_SERVICES = ['', 'inference.GRPCInferenceService'];
/** How often a Watch looks at the serving state for a change. */
export const WATCH_POLL_MS = 200;

type ServingStatus = 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';

/**
 * grpc.health.v1.Health, so Kubernetes gRPC probes and grpc-health-probe work: SERVING once every model is ready,
 * NOT_SERVING while loading or draining (the data plane's one readiness rule; liveness is HTTP /v2/health/live).
 */
export function healthServiceHandlers(wrap: CallWrapperDeps, deps: { serving: ServingState }) {
  const current = (): ServingStatus => (deps.serving.readiness().ready ? 'SERVING' : 'NOT_SERVING');
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
    Watch: watch(wrap, deps.serving),
  };
}

/**
 * The health protocol's Watch: the status at once, then each change. An unknown service gets SERVICE_UNKNOWN and
 * the call stays open, as the protocol says. Once the server drains, the last NOT_SERVING is sent and the stream
 * ends, so the drain does not wait on watchers.
 */
function watch(wrap: CallWrapperDeps, serving: ServingState) {
  return (call: ServerWritableStream<{ service: string }, { status: ServingStatus }>) => {
    const record = wrap.metrics.start(`${SERVICE}/Watch`);
    const known = HEALTH_SERVICES.includes(call.request.service);
    const statusOf = (readiness: ServerReadiness): ServingStatus =>
      !known ? 'SERVICE_UNKNOWN' : readiness.ready ? 'SERVING' : 'NOT_SERVING';
    let sent = statusOf(serving.readiness());
    call.write({ status: sent });
    let stopped = false;
    const stop = () => {
      stopped = true;
      clearInterval(timer);
    };
    const timer = setInterval(() => {
      const readiness = serving.readiness();
      const now = statusOf(readiness);
      if (now !== sent) {
        sent = now;
        call.write({ status: now });
      }
      if (!readiness.ready && readiness.code === 'shutting_down') {
        stop();
        call.end();
        record(status.OK);
      }
    }, WATCH_POLL_MS);
    timer.unref();
    call.once('cancelled', () => {
      if (stopped) return;
      stop();
      record(status.CANCELLED);
    });
  };
}
