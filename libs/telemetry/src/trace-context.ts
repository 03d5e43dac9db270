import { context, trace, TraceFlags, type Context, type Span, type SpanContext } from '@opentelemetry/api';

/** A W3C `traceparent` value: version 00, trace id, parent (span) id, flags. */
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The W3C `traceparent` that names `span` (how a task message carries a span to a worker thread). */
export function traceparentOf(span: Span): string {
  const { traceId, spanId, traceFlags } = span.spanContext();
  return `00-${traceId}-${spanId}-${(traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

/** The span context a `traceparent` names, or undefined when it is not one (all-zero ids included). */
export function parseTraceparent(value: string): SpanContext | undefined {
  const match = TRACEPARENT.exec(value);
  if (!match || /^0+$/.test(match[1]) || /^0+$/.test(match[2])) return undefined;
  return {
    traceId: match[1],
    spanId: match[2],
    traceFlags: parseInt(match[3], 16) & TraceFlags.SAMPLED,
    isRemote: true,
  };
}

/** A context whose parent is the span a `traceparent` names (the active context when it names none). */
export function contextOf(traceparent: string): Context {
  const parent = parseTraceparent(traceparent);
  return parent ? trace.setSpanContext(context.active(), parent) : context.active();
}
