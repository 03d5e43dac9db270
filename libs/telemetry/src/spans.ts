import {
  context,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
  type SpanKind,
  type TimeInput,
} from '@opentelemetry/api';
import { wallClockMs } from './clock';

/**
 * The one tracer of the service. Until the app registers a tracer provider (OTEL_* set) it is the API's no-op
 * tracer, and every helper here returns before creating anything: tracing off costs a property read per stage.
 */
const tracer = trace.getTracer('food-vision-api');

/** The span a request is being traced under, when it is sampled; undefined when tracing is off or not sampled. */
export function recordingSpan(): Span | undefined {
  const span = trace.getActiveSpan();
  return span?.isRecording() === true ? span : undefined;
}

export interface StageSpanOptions {
  attributes?: Attributes;
  kind?: SpanKind;
  startTime?: TimeInput;
  /** The parent; the active context when absent. */
  parent?: Context;
}

/**
 * Starts a child of the active (or given) span; call only under a recording span (see `recordingSpan`). Its start
 * is read from the same clock as the worker threads' steps (`wallClockMs`), not the SDK's default (Date.now(),
 * whole milliseconds), so that spans from the two threads line up; end it with `endSpan`.
 */
export function startSpan(name: string, options: StageSpanOptions = {}): Span {
  const { parent = context.active(), startTime = wallClockMs(), ...rest } = options;
  return tracer.startSpan(name, { ...rest, startTime }, parent);
}

/** Ends a span now, on the clock `startSpan` started it on. */
export function endSpan(span: Span): void {
  span.end(wallClockMs());
}

/**
 * Runs `work` inside a child span of the active span, which becomes the active span of everything `work` awaits.
 * Untraced (tracing off, or the request not sampled), `work` runs as is, with no span.
 */
export async function inSpan<T>(
  name: string,
  options: Pick<StageSpanOptions, 'attributes' | 'kind'>,
  work: (span: Span | undefined) => Promise<T>,
): Promise<T> {
  if (!recordingSpan()) return work(undefined);
  const span = startSpan(name, options);
  try {
    return await context.with(trace.setSpan(context.active(), span), () => work(span));
  } catch (error) {
    failSpan(span, error);
    throw error;
  } finally {
    endSpan(span);
  }
}

/**
 * Marks a span failed: an `exception` event, status ERROR, and `error.type` (a problem's stable code, when the
 * error has one, as a ProblemError does).
 */
export function failSpan(span: Span, error: unknown): void {
  const failure = error instanceof Error ? error : new Error(String(error));
  const code = (error as { code?: unknown } | null)?.code;
  span.recordException(failure);
  span.setAttribute('error.type', typeof code === 'string' ? code : failure.name);
  span.setStatus({ code: SpanStatusCode.ERROR, message: failure.message });
}

/**
 * Runs `work` with no active span, so nothing it does is traced: for work that would bury a trace in spans (an
 * explanation's hundreds of masked runs), which its caller sums up in one span of its own.
 */
export function untraced<T>(work: () => T): T {
  return context.with(trace.deleteSpan(context.active()), work);
}
