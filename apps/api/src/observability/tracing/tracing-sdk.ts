import { context, propagation, trace, type TextMapPropagator } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ConsoleSpanExporter,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
  type Sampler,
  type SpanExporter,
} from '@opentelemetry/sdk-trace';
import type { Registry } from 'prom-client';
import { API_VERSION } from '../../common/api-version';
import { spanExportMetrics } from './span-export-metrics';
import type { TracingSettings } from './tracing-settings';

/** The running SDK: flush and stop it when the service stops. */
export interface Tracing {
  shutdown(): Promise<void>;
}

function sampler({ sampler: name, ratio }: TracingSettings): Sampler {
  const root = name.endsWith('always_off')
    ? new AlwaysOffSampler()
    : name.endsWith('traceidratio')
      ? new TraceIdRatioBasedSampler(ratio)
      : new AlwaysOnSampler();
  return name.startsWith('parentbased_') ? new ParentBasedSampler({ root }) : root;
}

/** The exporter for the chosen transport; each reads its endpoint, headers, timeout and TLS from OTEL_EXPORTER_OTLP_*. */
async function exporter(settings: TracingSettings): Promise<SpanExporter> {
  if (settings.exporter === 'console') return new ConsoleSpanExporter();
  switch (settings.protocol) {
    case 'grpc':
      return new (await import('@opentelemetry/exporter-trace-otlp-grpc')).OTLPTraceExporter();
    case 'http/json':
      return new (await import('@opentelemetry/exporter-trace-otlp-http')).OTLPTraceExporter();
    case 'http/protobuf':
      return new (await import('@opentelemetry/exporter-trace-otlp-proto')).OTLPTraceExporter();
  }
}

/**
 * Starts the OpenTelemetry trace SDK for the process: the sampler, a bounded batch processor (spans past
 * OTEL_BSP_MAX_QUEUE_SIZE are dropped and counted, never waited for), the W3C propagators, and async-context
 * propagation so a request's span is the parent of everything done for it.
 */
export async function startTracing(settings: TracingSettings, registry: Registry): Promise<Tracing> {
  const resource = resourceFromAttributes({
    'service.name': 'food-vision-api',
    'service.version': API_VERSION,
  }).merge(detectResources({ detectors: [envDetector] }));
  const provider = new TracerProvider({
    resource,
    sampler: sampler(settings),
    spanProcessors: [
      new BatchSpanProcessor({
        exporter: await exporter(settings),
        ...settings.batch,
        selfObsMeterProvider: spanExportMetrics(registry),
      }),
    ],
  });
  const propagators: TextMapPropagator[] = settings.propagators.map((name) =>
    name === 'baggage' ? new W3CBaggagePropagator() : new W3CTraceContextPropagator(),
  );
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new CompositePropagator({ propagators }));
  trace.setGlobalTracerProvider(provider);
  return {
    shutdown: async () => {
      try {
        await provider.shutdown();
      } finally {
        trace.disable();
        propagation.disable();
        context.disable();
      }
    },
  };
}
