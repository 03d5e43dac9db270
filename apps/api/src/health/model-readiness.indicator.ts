import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { ModelLoader } from '@app/inference';

/** Up once the model is loaded and warm; down with the reason while it loads or after it failed. */
@Injectable()
export class ModelReadinessIndicator {
  constructor(
    private readonly models: ModelLoader,
    private readonly indicators: HealthIndicatorService,
  ) {}

  check(key = 'model'): HealthIndicatorResult {
    const indicator = this.indicators.check(key);
    const state = this.models.modelState;
    if (state.status === 'ready') {
      const { runtime, resolved } = state.model;
      return indicator.up({ name: resolved.manifest.name, engine: runtime.engine, backend: runtime.backend });
    }
    const reason = state.status === 'loading' ? 'The model is still loading.' : state.reason;
    return indicator.down({ status_detail: state.status, reason });
  }
}
