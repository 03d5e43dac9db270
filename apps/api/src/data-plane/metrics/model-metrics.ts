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
