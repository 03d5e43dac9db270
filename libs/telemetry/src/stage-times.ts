import type { Attributes, Span } from '@opentelemetry/api';
import { startSpan } from './spans';
import { contextOf } from './trace-context';

/** One step a worker thread timed: wall-clock milliseconds (performance.timeOrigin + performance.now()). */
export interface StageTime {
  name: string;
  startMs: number;
  endMs: number;
  attributes?: Attributes;
}

/**
 * Spans for the steps a worker thread timed, as children of the span its task message named (`traceparent`),
 * each with the step's own start and end.
 */
export function recordStages(traceparent: string, stages: readonly StageTime[]): Span[] {
  const parent = contextOf(traceparent);
  return stages.map((stage) => {
    const span = startSpan(stage.name, { parent, startTime: stage.startMs, attributes: stage.attributes });
    span.end(stage.endMs);
    return span;
  });
}
