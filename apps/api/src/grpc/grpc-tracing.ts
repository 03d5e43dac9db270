import { Metadata, type ServerUnaryCall, status } from '@grpc/grpc-js';
import {
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
  type TextMapGetter,
} from '@opentelemetry/api';
import { endSpan, traceparentOf, wallClockMs } from '@app/telemetry';

/** Reads W3C headers (traceparent, tracestate, baggage) from gRPC metadata. */
const METADATA_GETTER: TextMapGetter<Metadata> = {
  keys: (metadata) => Object.keys(metadata.getMap()),
  get: (metadata, key) => {
    const values = metadata.get(key).map(String);
    return values.length === 0 ? undefined : values.length === 1 ? values[0] : values;
  },
};

/** The statuses that are the server's fault (the RPC semantic conventions); the others leave the span unset. */
const SERVER_FAULTS = new Set([
  status.UNKNOWN,
  status.DEADLINE_EXCEEDED,
  status.UNIMPLEMENTED,
  status.INTERNAL,
  status.UNAVAILABLE,
  status.DATA_LOSS,
]);

export interface CallSpan {
  span: Span;
  /** The context to run the handler in: the span is its active span. */
  context: Context;
}

/**
 * The server span of one gRPC call (`inference.GRPCInferenceService/ModelInfer`), a child of the caller's
 * `traceparent` metadata when it sent one; the span's own `traceparent` goes back in the response headers.
 */
export function startCallSpan(call: ServerUnaryCall<unknown, unknown>, method: string): CallSpan {
  const parent = propagation.extract(ROOT_CONTEXT, call.metadata, METADATA_GETTER);
  const [service, name] = method.split('/');
  const span = trace.getTracer('food-vision-api').startSpan(
    method,
    {
      kind: SpanKind.SERVER,
      startTime: wallClockMs(),
      attributes: {
        'rpc.system': 'grpc',
        'rpc.service': service,
        'rpc.method': name,
        'network.peer.address': call.getPeer(),
      },
    },
    parent,
  );
  const headers = new Metadata();
  headers.set('traceparent', traceparentOf(span));
  call.sendMetadata(headers);
  return { span, context: trace.setSpan(parent, span) };
}

/** Ends the call's span with its status (and the error as an exception event). */
export function endCallSpan(span: Span, code: status, error?: unknown): void {
  span.setAttribute('rpc.grpc.status_code', code);
  if (error !== undefined) {
    span.recordException(error instanceof Error ? error : new Error('The call failed.'));
    const problemCode = (error as { code?: unknown }).code;
    if (typeof problemCode === 'string') span.setAttribute('error.type', problemCode);
  }
  if (SERVER_FAULTS.has(code)) span.setStatus({ code: SpanStatusCode.ERROR, message: status[code] });
  endSpan(span);
}
