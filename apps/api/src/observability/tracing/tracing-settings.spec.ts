import { describe, expect, it } from 'vitest';
import { tracingSettings } from './tracing-settings';

// The OTEL_* variables as the specification defines them (configuration/sdk-environment-variables.md,
// protocol/exporter.md), and this service's one departure: off until an exporter or an endpoint is named.

const ENDPOINT = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' };

describe('tracingSettings', () => {
  it('is off with no OTEL_* variable, and with empty ones (empty is unset)', () => {
    expect(tracingSettings({}).settings).toBeUndefined();
    expect(
      tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: ' ', OTEL_TRACES_EXPORTER: '' }).settings,
    ).toBeUndefined();
  });

  it('is on with an endpoint, with the specification defaults', () => {
    const { settings, warnings } = tracingSettings(ENDPOINT);
    expect(warnings).toEqual([]);
    expect(settings).toEqual({
      exporter: 'otlp',
      protocol: 'http/protobuf',
      sampler: 'parentbased_always_on',
      ratio: 1,
      batch: {
        scheduledDelayMillis: 5000,
        exportTimeoutMillis: 30000,
        maxQueueSize: 2048,
        maxExportBatchSize: 512,
      },
      propagators: ['tracecontext', 'baggage'],
    });
    expect(
      tracingSettings({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces' }).settings?.exporter,
    ).toBe('otlp');
    expect(tracingSettings({ OTEL_TRACES_EXPORTER: 'otlp' }).settings?.exporter).toBe('otlp');
    expect(tracingSettings({ OTEL_TRACES_EXPORTER: 'console' }).settings?.exporter).toBe('console');
  });

  it('stays off when the SDK is disabled or the exporter is none, whatever else is set', () => {
    const disabled = tracingSettings({ ...ENDPOINT, OTEL_SDK_DISABLED: 'TRUE' });
    expect(disabled.settings).toBeUndefined();
    expect(disabled.why).toBe('OTEL_SDK_DISABLED=true');
    expect(tracingSettings({ ...ENDPOINT, OTEL_TRACES_EXPORTER: 'none' }).settings).toBeUndefined();
    // Only "true" is true: anything else is false, with a warning.
    const { settings, warnings } = tracingSettings({ ...ENDPOINT, OTEL_SDK_DISABLED: 'yes' });
    expect(settings).toBeDefined();
    expect(warnings).toEqual(['OTEL_SDK_DISABLED=yes is not true or false; taken as false.']);
  });

  it('takes the protocol, the traces-specific one first, case-insensitively; warns and ignores an unknown one', () => {
    for (const protocol of ['http/protobuf', 'http/json', 'grpc'] as const) {
      expect(
        tracingSettings({ ...ENDPOINT, OTEL_EXPORTER_OTLP_PROTOCOL: protocol.toUpperCase() }).settings
          ?.protocol,
      ).toBe(protocol);
    }
    expect(
      tracingSettings({
        ...ENDPOINT,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
      }).settings?.protocol,
    ).toBe('http/json');
    const unknown = tracingSettings({ ...ENDPOINT, OTEL_EXPORTER_OTLP_PROTOCOL: 'thrift' });
    expect(unknown.settings?.protocol).toBe('http/protobuf');
    expect(unknown.warnings[0]).toMatch(/"thrift" is not one of http\/protobuf, http\/json, grpc/);
  });

  it('takes the sampler and its ratio; an invalid ratio is ignored with a warning', () => {
    expect(
      tracingSettings({
        ...ENDPOINT,
        OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '0.25',
      }).settings,
    ).toMatchObject({ sampler: 'parentbased_traceidratio', ratio: 0.25 });
    expect(tracingSettings({ ...ENDPOINT, OTEL_TRACES_SAMPLER: 'always_off' }).settings?.sampler).toBe(
      'always_off',
    );
    const bad = tracingSettings({
      ...ENDPOINT,
      OTEL_TRACES_SAMPLER: 'traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '2',
    });
    expect(bad.settings?.ratio).toBe(1);
    expect(bad.warnings).toEqual(['OTEL_TRACES_SAMPLER_ARG: "2" is not a ratio from 0 to 1; using 1.']);
    // The argument counts only with a sampler named (the specification).
    expect(tracingSettings({ ...ENDPOINT, OTEL_TRACES_SAMPLER_ARG: '0.5' }).settings?.ratio).toBe(1);
    const unknown = tracingSettings({ ...ENDPOINT, OTEL_TRACES_SAMPLER: 'jaeger_remote' });
    expect(unknown.settings?.sampler).toBe('parentbased_always_on');
    expect(unknown.warnings).toHaveLength(1);
  });

  it('bounds the batch processor from OTEL_BSP_*, the batch never larger than the queue', () => {
    const { settings, warnings } = tracingSettings({
      ...ENDPOINT,
      OTEL_BSP_MAX_QUEUE_SIZE: '64',
      OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '512',
      OTEL_BSP_SCHEDULE_DELAY: '250',
      OTEL_BSP_EXPORT_TIMEOUT: 'soon',
    });
    expect(settings?.batch).toEqual({
      maxQueueSize: 64,
      maxExportBatchSize: 64,
      scheduledDelayMillis: 250,
      exportTimeoutMillis: 30000,
    });
    expect(warnings).toEqual([
      'OTEL_BSP_EXPORT_TIMEOUT: "soon" is not an integer of at least 0; using 30000.',
    ]);
  });

  it('reads the propagators, once each, and none', () => {
    expect(
      tracingSettings({ ...ENDPOINT, OTEL_PROPAGATORS: 'baggage,tracecontext,baggage' }).settings
        ?.propagators,
    ).toEqual(['baggage', 'tracecontext']);
    expect(tracingSettings({ ...ENDPOINT, OTEL_PROPAGATORS: 'none' }).settings?.propagators).toEqual([]);
    expect(tracingSettings({ ...ENDPOINT, OTEL_PROPAGATORS: 'b3' }).warnings[0]).toMatch(
      /"b3" is not supported/,
    );
  });
});
