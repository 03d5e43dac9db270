import { collectDefaultMetrics, Registry, type RegistryContentType } from 'prom-client';

/** Every metric this service defines starts with this; the default process/Node.js metrics keep their standard names. */
export const METRIC_PREFIX = 'food_vision_';

/** Seconds; from a cached probe hit (~1 ms) to the image fetch timeout. */
export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * One registry per app instance (not prom-client's global one), so several apps in one process (tests) do not
 * collide; with the process and Node.js metrics (CPU, RSS, heap, event-loop lag, GC).
 */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  // OpenMetrics mode lets histograms keep exemplars; /metrics writes either format itself (exposition.ts).
  (registry as unknown as Registry<RegistryContentType>).setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  collectDefaultMetrics({ register: registry });
  return registry;
}
