import {
  type handleUnaryCall,
  Metadata,
  type sendUnaryData,
  type ServerUnaryCall,
  status,
} from '@grpc/grpc-js';
import type { Logger } from '@nestjs/common';
import { context } from '@opentelemetry/api';
import { problem } from '@app/problem';
import type { ApiKeySet } from '../security/api-key-set';
import { presentedApiKey } from '../security/api-key-set';
import type { GrpcMetrics } from './grpc-metrics';
import { toGrpcFailure } from './grpc-status';
import { endCallSpan, startCallSpan, type CallSpan } from './grpc-tracing';

/** What a handler gets besides the request: the caller's metadata, and a signal that fires at its deadline or when it cancels. */
export interface CallContext {
  metadata: Metadata;
  signal: AbortSignal;
}

export type UnaryHandler<Request, Response> = (
  request: Request,
  context: CallContext,
) => Response | Promise<Response>;

export interface CallWrapperDeps {
  keys: ApiKeySet;
  metrics: GrpcMetrics;
  logger: Logger;
  /** Counts calls in flight, for the shutdown log. */
  track(delta: 1 | -1): void;
  /** Whether calls get server spans (OTEL_* set); probes never do. */
  tracing: boolean;
}

/** The API key from `x-api-key` or `authorization: Bearer <key>` metadata, as over HTTP. */
function requireApiKey(keys: ApiKeySet, metadata: Metadata): void {
  const value = (key: string) => {
    const [first] = metadata.get(key);
    return first === undefined ? undefined : first.toString();
  };
  const key = presentedApiKey({ 'x-api-key': value('x-api-key'), authorization: value('authorization') });
  if (key !== undefined && keys.matches(key)) return;
  throw problem(
    'unauthorized',
    key === undefined
      ? 'This API requires a key: send it as x-api-key metadata, or as authorization: Bearer <key>.'
      : 'The API key is not valid: check it, or ask the operator of this service for one.',
  );
}

/** An inference answer's version as trailing metadata, `x-model-version` (HTTP answers carry X-Model-Version). */
function modelVersionTrailer(response: unknown): Metadata | undefined {
  const version = (response as { model_version?: unknown } | null)?.model_version;
  if (typeof version !== 'string' || version === '') return undefined;
  const trailer = new Metadata();
  trailer.set('x-model-version', version);
  return trailer;
}

/**
 * Wraps a handler as a grpc-js unary method: API key check (unless public, like the HTTP probes), an abort signal
 * for the deadline and for cancellation, errors as gRPC statuses, and a metric for every call.
 */
export function unary<Request, Response>(
  deps: CallWrapperDeps,
  method: string,
  options: { public: boolean },
  handler: UnaryHandler<Request, Response>,
): handleUnaryCall<Request, Response> {
  return (call: ServerUnaryCall<Request, Response>, callback: sendUnaryData<Response>) => {
    const record = deps.metrics.start(method);
    deps.track(1);
    const controller = new AbortController();
    let deadlinePassed = false;
    const deadline = Number(call.getDeadline());
    const timer = Number.isFinite(deadline)
      ? setTimeout(
          () => {
            deadlinePassed = true;
            controller.abort();
          },
          Math.max(0, deadline - Date.now()),
        )
      : undefined;
    const onCancelled = () => controller.abort();
    call.once('cancelled', onCancelled);
    const traced: CallSpan | undefined =
      deps.tracing && !options.public ? startCallSpan(call, method) : undefined;
    const finish = (code: status, error?: unknown) => {
      clearTimeout(timer);
      call.removeListener('cancelled', onCancelled);
      record(code);
      deps.track(-1);
      if (traced) endCallSpan(traced.span, code, error);
    };
    const handle = () => handler(call.request, { metadata: call.metadata, signal: controller.signal });
    void (async () => {
      try {
        if (!options.public && deps.keys.enabled) requireApiKey(deps.keys, call.metadata);
        const response = await (traced ? context.with(traced.context, handle) : handle());
        finish(status.OK);
        callback(null, response, modelVersionTrailer(response));
      } catch (error) {
        const failure = toGrpcFailure(error);
        if (deadlinePassed) {
          failure.code = status.DEADLINE_EXCEEDED;
          failure.details = `The deadline passed before ${method.split('/').pop()} finished; the work was dropped.`;
        }
        if (failure.code === status.INTERNAL) {
          deps.logger.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
        }
        finish(failure.code, error);
        callback(failure);
      }
    })();
  };
}
