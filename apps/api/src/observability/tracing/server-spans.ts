import { isSpanContextValid, type Span } from '@opentelemetry/api';

/** Each traced HTTP request's server span, for what runs outside its async context (metrics, the problem body). */
const serverSpans = new WeakMap<object, Span>();

export function setServerSpan(request: object, span: Span): void {
  serverSpans.set(request, span);
}

/** The request's server span; undefined when tracing is off or the path is not traced. */
export function serverSpanOf(request: object | undefined): Span | undefined {
  return request === undefined ? undefined : serverSpans.get(request);
}

/** The trace id of a request's server span, when it has a valid one (for problem bodies). */
export function traceIdOf(request: object | undefined): string | undefined {
  const context = serverSpanOf(request)?.spanContext();
  return context !== undefined && isSpanContextValid(context) ? context.traceId : undefined;
}
