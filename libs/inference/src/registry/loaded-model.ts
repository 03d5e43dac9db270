import type { ModelManifest } from '../manifest/model-manifest';
import type { ResolvedModel } from '../manifest/resolved-model';
import type { RuntimeInfo } from '../runtimes/model-runtime';
import type { InferenceScheduler } from '../workers/inference-scheduler';

export interface ServingInfo extends RuntimeInfo {
  /** Worker threads holding the model (0: the main thread runs it). */
  workers: number;
  threadsPerWorker: number;
}

export interface LoadedModel {
  resolved: ResolvedModel;
  /** Engine and layout; the model itself lives in the workers. */
  runtime: ServingInfo;
  /** Runs classifications on the workers, behind the bounded queue. */
  inference: InferenceScheduler;
  loadedAt: Date;
  loadMs: number;
  warmupMs: number;
}

/** Where the configured model is; `manifest` is known as soon as it was read, before the weights load. */
export type ModelState =
  | { status: 'loading'; manifest?: ModelManifest }
  | { status: 'ready'; manifest: ModelManifest; model: LoadedModel }
  | { status: 'failed'; manifest?: ModelManifest; reason: string };
