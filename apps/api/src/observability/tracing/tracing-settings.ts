/** The OTLP transports the specification names (OTEL_EXPORTER_OTLP_PROTOCOL). */
export const OTLP_PROTOCOLS = ['http/protobuf', 'http/json', 'grpc'] as const;
export type OtlpProtocol = (typeof OTLP_PROTOCOLS)[number];

const SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;
export type SamplerName = (typeof SAMPLERS)[number];

export interface BatchSettings {
  scheduledDelayMillis: number;
  exportTimeoutMillis: number;
  maxQueueSize: number;
  maxExportBatchSize: number;
}

export interface TracingSettings {
  exporter: 'otlp' | 'console';
  protocol: OtlpProtocol;
  sampler: SamplerName;
  /** For the ratio samplers: the share of new traces kept, 0 to 1. */
  ratio: number;
  batch: BatchSettings;
  /** Which W3C headers are read and written: `tracecontext` (traceparent, tracestate) and `baggage`. */
  propagators: Array<'tracecontext' | 'baggage'>;
}

export interface TracingDecision {
  /** Absent: tracing is off (`why` says so). */
  settings?: TracingSettings;
  why: string;
  /** Values the specification says to warn about and ignore. */
  warnings: string[];
}

type Env = Record<string, string | undefined>;

/** The specification: an empty value is the same as an unset one. */
const read = (env: Env, name: string): string | undefined => {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
};

/**
 * What the OpenTelemetry environment variables ask for (specification/configuration/sdk-environment-variables.md
 * and protocol/exporter.md), with one departure: the specification's default exporter is `otlp` to
 * localhost:4318, but a service that nobody pointed at a collector should not try to send to one, so tracing is on
 * only when a traces exporter is named (OTEL_TRACES_EXPORTER) or an OTLP endpoint is set. Unknown values are
 * warned about and ignored, as the specification says; nothing here stops the service from starting.
 */
export function tracingSettings(env: Env): TracingDecision {
  const warnings: string[] = [];
  const disabled = read(env, 'OTEL_SDK_DISABLED');
  if (disabled?.toLowerCase() === 'true') return { why: 'OTEL_SDK_DISABLED=true', warnings };
  if (disabled !== undefined && disabled.toLowerCase() !== 'false')
    warnings.push(`OTEL_SDK_DISABLED=${disabled} is not true or false; taken as false.`);

  const exporters = (read(env, 'OTEL_TRACES_EXPORTER') ?? '')
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter(Boolean);
  const endpoint =
    read(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT') ?? read(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  let exporter: TracingSettings['exporter'] | undefined;
  for (const name of exporters) {
    if (name === 'none') return { why: 'OTEL_TRACES_EXPORTER=none', warnings };
    if (name === 'otlp' || name === 'console') exporter ??= name;
    else
      warnings.push(`OTEL_TRACES_EXPORTER: "${name}" is not supported here (otlp, console, none); ignored.`);
  }
  exporter ??= endpoint !== undefined ? 'otlp' : undefined;
  if (exporter === undefined)
    return {
      why: 'no OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_TRACES_EXPORTER',
      warnings,
    };

  /** An enum value, case-insensitively; an unknown one is warned about and the default used (the specification). */
  const oneOf = <T extends string>(
    name: string,
    value: string | undefined,
    known: readonly T[],
    fallback: T,
  ): T => {
    if (value === undefined) return fallback;
    const found = known.find((one) => one === value.toLowerCase());
    if (found === undefined)
      warnings.push(`${name}: "${value}" is not one of ${known.join(', ')}; using ${fallback}.`);
    return found ?? fallback;
  };
  const protocol = oneOf(
    'OTEL_EXPORTER_OTLP_PROTOCOL',
    read(env, 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL') ?? read(env, 'OTEL_EXPORTER_OTLP_PROTOCOL'),
    OTLP_PROTOCOLS,
    'http/protobuf',
  );
  const samplerValue = read(env, 'OTEL_TRACES_SAMPLER');
  const sampler = oneOf('OTEL_TRACES_SAMPLER', samplerValue, SAMPLERS, 'parentbased_always_on');
  let ratio = 1;
  const ratioValue = read(env, 'OTEL_TRACES_SAMPLER_ARG');
  if (ratioValue !== undefined && samplerValue !== undefined && sampler.endsWith('traceidratio')) {
    const parsed = Number(ratioValue);
    if (Number.isFinite(parsed) && parsed >= 0 && parsed <= 1) ratio = parsed;
    else warnings.push(`OTEL_TRACES_SAMPLER_ARG: "${ratioValue}" is not a ratio from 0 to 1; using 1.`);
  }

  const integer = (name: string, fallback: number, minimum: number): number => {
    const value = read(env, name);
    if (value === undefined) return fallback;
    const parsed = Number(value);
    if (Number.isInteger(parsed) && parsed >= minimum) return parsed;
    warnings.push(`${name}: "${value}" is not an integer of at least ${minimum}; using ${fallback}.`);
    return fallback;
  };
  const maxQueueSize = integer('OTEL_BSP_MAX_QUEUE_SIZE', 2048, 1);
  const batch: BatchSettings = {
    scheduledDelayMillis: integer('OTEL_BSP_SCHEDULE_DELAY', 5000, 0),
    exportTimeoutMillis: integer('OTEL_BSP_EXPORT_TIMEOUT', 30000, 0),
    maxQueueSize,
    maxExportBatchSize: Math.min(integer('OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 512, 1), maxQueueSize),
  };

  const propagators: TracingSettings['propagators'] = [];
  for (const name of (read(env, 'OTEL_PROPAGATORS') ?? 'tracecontext,baggage').split(',')) {
    const one = name.trim().toLowerCase();
    if ((one === 'tracecontext' || one === 'baggage') && !propagators.includes(one)) propagators.push(one);
    else if (one !== 'none' && one !== 'tracecontext' && one !== 'baggage')
      warnings.push(
        `OTEL_PROPAGATORS: "${one}" is not supported here (tracecontext, baggage, none); ignored.`,
      );
  }

  const where =
    exporter === 'console'
      ? 'to standard output'
      : `over OTLP ${protocol}${endpoint ? ` to ${endpoint}` : ''}`;
  return {
    settings: { exporter, protocol, sampler, ratio, batch, propagators },
    why: `traces ${where}, sampler ${sampler}${sampler.endsWith('traceidratio') ? ` ${ratio}` : ''}`,
    warnings,
  };
}
