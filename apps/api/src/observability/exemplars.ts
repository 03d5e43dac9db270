import { trace, TraceFlags, type Span } from '@opentelemetry/api';
import type { Histogram, LabelValues } from 'prom-client';

/** The exemplar labels of the active span (see exemplarOf). */
export const traceExemplar = (): Record<string, string> => exemplarOf(trace.getActiveSpan());

/** The exemplar labels of `span`: its trace id when the trace is sampled (so the collector has it), else none. */
export function exemplarOf(span: Span | undefined): Record<string, string> {
  const context = span?.spanContext();
  return context !== undefined && (context.traceFlags & TraceFlags.SAMPLED) !== 0
    ? { trace_id: context.traceId }
    : {};
}

/**
 * Observes `seconds` in a histogram made with `enableExemplars: true`, with the active trace as the bucket's
 * exemplar (shown to clients that ask for OpenMetrics). Without a sampled span it is a plain observation.
 */
export function observeTraced<T extends string>(
  histogram: Histogram<T>,
  labels: LabelValues<T>,
  seconds: number,
  exemplar: Record<string, string> = traceExemplar(),
): void {
  // prom-client types exemplar labels as the metric's own label names; any names are valid.
  histogram.observe({ labels, value: seconds, exemplarLabels: exemplar as LabelValues<T> });
}
