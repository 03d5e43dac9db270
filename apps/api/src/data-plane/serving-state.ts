import { Injectable } from '@nestjs/common';
import {
  DEFAULT_RESIZE_FIDELITY,
  ModelRegistry,
  notReadyReason,
  type ModelInputSpec,
  type ServedModel,
} from '@app/inference';
import { ShutdownState } from '../lifecycle/shutdown-state';
import type { ModelMetadata } from './inference-request';
import { servedModel, toV2ModelMetadata } from './served-model';

/** A model as the probes describe it once it is ready. */
export interface ReadyModel {
  name: string;
  engine: string;
  backend: string;
}

/** The server's readiness: one answer for every probe (HTTP /health/ready, /v2, gRPC and grpc.health.v1). */
export type ServerReadiness =
  | { ready: true; models: ReadyModel[] }
  | {
      ready: false;
      /** `shutting_down` once SIGTERM arrived (whatever the models), else `model_not_ready`. */
      code: 'shutting_down' | 'model_not_ready';
      reason: string;
      /** Each model that is not ready, and why. */
      models: Record<string, string>;
    };

export interface ModelReadiness {
  name: string;
  ready: boolean;
  reason?: string;
}

/**
 * What the service serves and whether it can answer: live, ready (draining included), model ready, metadata,
 * list and reload. Every front-end asks here, so a probe on one protocol never disagrees with another
 * (KServe's DataPlane.ready/model_ready, Triton's single TRITONSERVER_ServerModelIsReady).
 */
@Injectable()
export class ServingState {
  constructor(
    private readonly models: ModelRegistry,
    private readonly shutdown: ShutdownState,
  ) {}

  /** The process answers; never depends on a model. */
  live(): boolean {
    return true;
  }

  readiness(): ServerReadiness {
    const { ready, reasons } = this.models.readiness();
    if (this.shutdown.draining) {
      return {
        ready: false,
        code: 'shutting_down',
        reason: `The service is shutting down (${this.shutdown.reason}); send requests to another instance.`,
        models: reasons,
      };
    }
    if (!ready) {
      return {
        ready: false,
        code: 'model_not_ready',
        reason: modelReasons(reasons),
        models: reasons,
      };
    }
    const models = this.models
      .servedModels()
      .flatMap(({ name, state }) =>
        state.status === 'ready'
          ? [{ name, engine: state.model.runtime.engine, backend: state.model.runtime.backend }]
          : [],
      );
    return { ready: true, models };
  }

  /** One model's readiness (404 for an unknown model or version); not ready while the server drains. */
  modelReadiness(name: string, version?: string): ModelReadiness {
    const model = servedModel(this.models, name, version);
    if (this.shutdown.draining) {
      return {
        name: model.name,
        ready: false,
        reason: `The service is shutting down (${this.shutdown.reason}).`,
      };
    }
    const reason = notReadyReason(model.name, model.state);
    return reason ? { name: model.name, ready: false, reason } : { name: model.name, ready: true };
  }

  /** Every model, default first. */
  list(): ServedModel[] {
    return this.models.servedModels();
  }

  /** One model (404 naming the models there are). */
  model(name: string): ServedModel {
    return this.models.stateOf(name);
  }

  /** The Open Inference Protocol metadata of a model (and version, when given). */
  metadata(name: string, version?: string): ModelMetadata {
    return toV2ModelMetadata(servedModel(this.models, name, version));
  }

  /** Loads a model's newest files and swaps them in without dropping a request; the model now served. */
  async reload(name: string): Promise<ServedModel> {
    await this.models.reload(name);
    return this.models.stateOf(name);
  }
}

/** The resize fidelity a model input uses (the manifest's, else the default). */
export function resizeFidelity(input: ModelInputSpec): NonNullable<ModelInputSpec['resize']['fidelity']> {
  return input.resize.fidelity ?? DEFAULT_RESIZE_FIDELITY;
}

/** Each model that is not ready and why, as one sentence per model (`food101: The model is still loading.`). */
export function modelReasons(reasons: Record<string, string>): string {
  return Object.entries(reasons)
    .map(([name, why]) => `${name}: ${why}`)
    .join(' ');
}
