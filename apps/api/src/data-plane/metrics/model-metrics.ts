import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Registry } from 'prom-client';
import { ModelRegistry } from '@app/inference';
import { METRIC_PREFIX } from '../../observability/metrics-registry';

/**
 * `food_vision_model_info{name,version,format,engine,backend} 1` for each model being served, and each model's
 * readiness as 0/1; read from the model registry at scrape time.
 */
@Injectable()
export class ModelMetrics {
  constructor(registry: Registry, models: ModelRegistry) {
    new Gauge({
      name: `${METRIC_PREFIX}model_info`,
      help: 'Each model being served (always 1; the labels carry the information). Absent until it is loaded.',
      labelNames: ['name', 'version', 'format', 'engine', 'backend'],
      registers: [registry],
      collect() {
        this.reset();
        for (const { state } of models.servedModels()) {
          if (state.status !== 'ready') continue;
          const { resolved, runtime } = state.model;
          const { name, version, format } = resolved.manifest;
          this.set({ name, version, format, engine: runtime.engine, backend: runtime.backend }, 1);
        }
      },
    });
    new Gauge({
      name: `${METRIC_PREFIX}model_ready`,
      help: '1 once the model is loaded and warmed up, 0 while it loads or after it failed to load.',
      labelNames: ['name'],
      registers: [registry],
      collect() {
        this.reset();
        for (const { name, state } of models.servedModels())
          this.set({ name }, state.status === 'ready' ? 1 : 0);
      },
    });
    new Gauge({
      name: `${METRIC_PREFIX}models_resident`,
      help: 'Models in memory (loaded or loading) now; with MODEL_STORE_MAX_LOADED, at most that many.',
      registers: [registry],
      collect() {
        this.set(models.onDemandStats().resident);
      },
    });
    const perModel = (
      name: string,
      help: string,
      read: (stats: ReturnType<ModelRegistry['onDemandStats']>) => ReadonlyMap<string, number>,
    ) =>
      new Counter({
        name: `${METRIC_PREFIX}${name}`,
        help,
        labelNames: ['name'],
        registers: [registry],
        collect() {
          this.reset();
          for (const [model, value] of read(models.onDemandStats())) this.inc({ name: model }, value);
        },
      });
    perModel(
      'model_loads_total',
      'Models loaded on demand, on their first request after start or after being unloaded (MODEL_STORE_MAX_LOADED).',
      (stats) => stats.loads,
    );
    perModel(
      'model_evictions_total',
      'Models unloaded, least recently used first, to make room for another (MODEL_STORE_MAX_LOADED).',
      (stats) => stats.evictions,
    );
    perModel(
      'model_load_seconds_total',
      'Time spent loading models on demand (over model_loads_total: the mean load time).',
      (stats) => stats.loadSeconds,
    );
    new Counter({
      name: `${METRIC_PREFIX}model_load_failures_total`,
      help: 'Loads and reloads that failed, by model and cause (timeout: past MODEL_LOAD_TIMEOUT_SECONDS, its workers stopped).',
      labelNames: ['name', 'cause'],
      registers: [registry],
      collect() {
        this.reset();
        for (const { name, cause, count } of models.loadFailures()) this.inc({ name, cause }, count);
      },
    });
  }
}
