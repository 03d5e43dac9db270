import { Counter, Gauge, Histogram, Registry, type RegistryContentType } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { exposition, preferredFormat } from './exposition';

// The writer against prom-client's own: the same metrics in a registry of each format must read the same, and
// writing one format must not change the other (prom-client's OpenMetrics writer renames counters for good).

function populate(registry: Registry, exemplars: boolean): void {
  const registers = [registry];
  const counter = new Counter({
    name: 'spec_requests_total',
    help: 'Counted.\nWith "quotes" and \\',
    labelNames: ['code'],
    registers,
  });
  counter.inc({ code: 'ok' }, 3);
  counter.inc({ code: 'say "no"\n' });
  new Gauge({ name: 'spec_ready', help: 'A gauge.', registers }).set(1);
  const histogram = new Histogram({
    name: 'spec_duration_seconds',
    help: 'Timed.',
    labelNames: ['protocol'],
    buckets: [0.1, 1],
    enableExemplars: exemplars,
    registers,
  });
  if (exemplars) {
    histogram.observe({
      labels: { protocol: 'v1' },
      value: 0.05,
      exemplarLabels: { trace_id: 'abc' } as never,
    });
    histogram.observe({ labels: { protocol: 'v1' }, value: 2, exemplarLabels: {} });
  } else {
    histogram.observe({ protocol: 'v1' }, 0.05);
    histogram.observe({ protocol: 'v1' }, 2);
  }
}

const openMetricsRegistry = (): Registry => {
  const registry = new Registry();
  (registry as unknown as Registry<RegistryContentType>).setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  return registry;
};

afterEach(() => vi.useRealTimers());

describe('exposition', () => {
  it('writes the Prometheus text exactly as prom-client does, without exemplars', async () => {
    const theirs = new Registry();
    populate(theirs, false);
    const ours = openMetricsRegistry();
    populate(ours, true);
    expect(await exposition(ours, 'prometheus')).toBe(await theirs.metrics());
  });

  it('writes OpenMetrics exactly as prom-client does, exemplars included, and changes nothing', async () => {
    const now = new Date('2026-12-06T12:00:00.250Z');
    vi.useFakeTimers({ now });
    const theirs = openMetricsRegistry();
    populate(theirs, true);
    const ours = openMetricsRegistry();
    populate(ours, true);
    const before = await exposition(ours, 'prometheus');
    const written = await exposition(ours, 'openmetrics');
    expect(written).toBe(await theirs.metrics());
    expect(written).toContain(
      `spec_duration_seconds_bucket{le="0.1",protocol="v1"} 1 # {trace_id="abc"} 0.05 ${now.getTime() / 1000}\n`,
    );
    expect(written).toMatch(/^# TYPE spec_requests counter$/m);
    expect(await exposition(ours, 'prometheus')).toBe(before);
  });

  it('picks OpenMetrics only when the Accept header ranks it first (or equal)', () => {
    const prometheusScrape =
      'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';
    expect(preferredFormat(prometheusScrape)).toBe('openmetrics');
    expect(preferredFormat(undefined)).toBe('prometheus');
    expect(preferredFormat('*/*')).toBe('prometheus');
    expect(preferredFormat('text/plain;version=0.0.4')).toBe('prometheus');
    expect(preferredFormat('text/plain;q=0.9, application/openmetrics-text;q=0.5')).toBe('prometheus');
    expect(preferredFormat('application/openmetrics-text;q=0')).toBe('prometheus');
    expect(preferredFormat('application/json')).toBe('prometheus');
  });
});
