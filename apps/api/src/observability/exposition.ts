import { Registry } from 'prom-client';

export type ExpositionFormat = 'prometheus' | 'openmetrics';

export const CONTENT_TYPES: Record<ExpositionFormat, string> = {
  prometheus: Registry.PROMETHEUS_CONTENT_TYPE,
  openmetrics: Registry.OPENMETRICS_CONTENT_TYPE,
};

interface Sample {
  metricName?: string;
  labels?: Record<string, string | number>;
  value: number;
  exemplar?: { labelSet: Record<string, string>; value: number; timestamp: number } | null;
}

interface Family {
  name: string;
  help: string;
  type: string;
  values: Sample[];
}

const escapeText = (text: string): string => text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
const escapeLabel = (text: string): string => escapeText(text).replace(/"/g, '\\"');

function number(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '+Inf' : '-Inf';
  return String(value);
}

function labels(set: Record<string, string | number> | undefined): string {
  const entries = Object.entries(set ?? {});
  if (entries.length === 0) return '';
  return `{${entries.map(([name, value]) => `${name}="${escapeLabel(String(value))}"`).join(',')}}`;
}

function render(family: Family, format: ExpositionFormat): string {
  const counter = family.type === 'counter';
  // Every counter here is named `…_total`. OpenMetrics names the family without the suffix and its samples with it.
  const stem = counter ? family.name.replace(/_total$/, '') : family.name;
  const name = counter && format === 'prometheus' ? `${stem}_total` : stem;
  const lines = [`# HELP ${name} ${escapeText(family.help)}`, `# TYPE ${name} ${family.type}`];
  for (const sample of family.values) {
    const sampleName = counter ? `${stem}_total` : (sample.metricName ?? name);
    let line = `${sampleName}${labels(sample.labels)} ${number(sample.value)}`;
    const { exemplar } = sample;
    if (format === 'openmetrics' && exemplar && Object.keys(exemplar.labelSet).length > 0) {
      line += ` # ${labels(exemplar.labelSet)} ${number(exemplar.value)} ${exemplar.timestamp}`;
    }
    lines.push(line);
  }
  return lines.join('\n');
}

/**
 * The registry as Prometheus text (0.0.4) or OpenMetrics (1.0.0, with each histogram bucket's exemplar: the trace
 * id of a request that landed in it). prom-client writes one format per registry, and writing OpenMetrics renames
 * its counters for good (it drops `_total` from their names), so both formats are written here from the values,
 * changing nothing; the registry is created in OpenMetrics mode only so that histograms may keep exemplars.
 */
export async function exposition(registry: Registry, format: ExpositionFormat): Promise<string> {
  const families = await Promise.all(
    registry.getMetricsAsArray().map((metric) => (metric as unknown as { get(): Promise<Family> }).get()),
  );
  const rendered = families.map((family) => render(family, format));
  return format === 'openmetrics' ? `${rendered.join('\n')}\n# EOF\n` : `${rendered.join('\n\n')}\n`;
}

/** Which format an Accept header prefers: OpenMetrics when it ranks it above (or with) the Prometheus text. */
export function preferredFormat(accept: string | undefined): ExpositionFormat {
  if (accept === undefined) return 'prometheus';
  let best: { format: ExpositionFormat; q: number } | undefined;
  for (const range of accept.split(',')) {
    const [type, ...parameters] = range.split(';').map((part) => part.trim().toLowerCase());
    const qParameter = parameters.find((parameter) => parameter.startsWith('q='));
    const q = qParameter === undefined ? 1 : Number(qParameter.slice(2));
    if (!Number.isFinite(q) || q <= 0) continue;
    const format: ExpositionFormat | undefined =
      type === 'application/openmetrics-text'
        ? 'openmetrics'
        : type === 'text/plain' || type === '*/*'
          ? 'prometheus'
          : undefined;
    if (format === undefined) continue;
    if (best === undefined || q > best.q || (q === best.q && format === 'openmetrics')) best = { format, q };
  }
  return best?.format ?? 'prometheus';
}
