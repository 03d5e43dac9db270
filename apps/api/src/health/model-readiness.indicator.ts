import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { ModelRegistry } from '@app/inference';

/** Up once every model is loaded and warm; down with each model's reason while one loads or failed. */
@Injectable()
export class ModelReadinessIndicator {
  constructor(
    private readonly models: ModelRegistry,
    private readonly indicators: HealthIndicatorService,
  ) {}

  check(key = 'model'): HealthIndicatorResult {
    const indicator = this.indicators.check(key);
    const { ready, reasons } = this.models.readiness();
    if (ready) {
      const served = this.models.servedModels().map(({ name, state }) => {
        const runtime = state.status === 'ready' ? state.model.runtime : undefined;
        return { name, engine: runtime?.engine, backend: runtime?.backend };
      });
      const first = served[0];
      return indicator.up({ ...first, ...(served.length > 1 ? { models: served } : {}) });
    }
    return indicator.down({
      reason: Object.entries(reasons)
        .map(([name, why]) => `${name}: ${why}`)
        .join(' '),
      models: reasons,
    });
  }
}
