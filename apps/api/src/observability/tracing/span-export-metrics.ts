import {
  createNoopMeter,
  type Attributes,
  type Counter as OtelCounter,
  type Meter,
  type MeterProvider,
  type ObservableCallback,
  type ObservableResult,
  type ObservableUpDownCounter,
} from '@opentelemetry/api';
import { Counter, Gauge, type Registry } from 'prom-client';
import { METRIC_PREFIX } from '../metrics-registry';

/** The batch span processor's own counters (semantic conventions, otel.sdk.processor.span.*). */
const PROCESSED = 'otel.sdk.processor.span.processed';
const QUEUE_SIZE = 'otel.sdk.processor.span.queue.size';

type Outcome = 'exported' | 'dropped' | 'failed';

/**
 * The SDK's batch span processor reports what became of each span through the OpenTelemetry metrics API
 * (`otel.sdk.processor.span.processed`, with `error.type` = `queue_full` for a span dropped because the queue was
 * full, or the export error's name). This meter provider hands those reports to prom-client, so a collector that
 * is down or slow shows on /metrics as dropped or failed spans, never as slower predictions.
 */
export function spanExportMetrics(registry: Registry): MeterProvider {
  const spans = new Counter<'outcome'>({
    name: `${METRIC_PREFIX}trace_spans_total`,
    help: 'Finished spans by what became of them: `exported`, `dropped` (the export queue was full: the collector is down or slow) or `failed` (the collector refused them or did not answer in time).',
    labelNames: ['outcome'],
    registers: [registry],
  });
  // The processor's queue-size callback is synchronous; it is read at each scrape.
  const callbacks: ObservableCallback[] = [];
  new Gauge({
    name: `${METRIC_PREFIX}trace_span_queue_size`,
    help: 'Finished spans waiting to be exported (bounded by OTEL_BSP_MAX_QUEUE_SIZE).',
    registers: [registry],
    collect() {
      let size = 0;
      const result: ObservableResult = { observe: (value: number) => (size += value) };
      callbacks.forEach((callback) => void callback(result));
      this.set(size);
    },
  });
  for (const outcome of ['exported', 'dropped', 'failed'] as const) spans.inc({ outcome }, 0);
  const noop = createNoopMeter();
  // The no-op meter's methods are on its prototype: inherit them, replace the two the processor reports through.
  const meter: Meter = Object.assign(Object.create(noop) as Meter, {
    createCounter: (name, options) => {
      if (name !== PROCESSED) return noop.createCounter(name, options);
      const counter: OtelCounter = {
        add: (value: number, attributes?: Attributes) => spans.inc({ outcome: outcomeOf(attributes) }, value),
      };
      return counter;
    },
    createObservableUpDownCounter: (name, options) => {
      if (name !== QUEUE_SIZE) return noop.createObservableUpDownCounter(name, options);
      const observable: ObservableUpDownCounter = {
        addCallback: (callback) => callbacks.push(callback),
        removeCallback: (callback) => {
          const index = callbacks.indexOf(callback);
          if (index >= 0) callbacks.splice(index, 1);
        },
      };
      return observable;
    },
  } satisfies Partial<Meter>);
  return { getMeter: () => meter };
}

function outcomeOf(attributes: Attributes | undefined): Outcome {
  const error = attributes?.['error.type'];
  if (error === undefined) return 'exported';
  return error === 'queue_full' ? 'dropped' : 'failed';
}
