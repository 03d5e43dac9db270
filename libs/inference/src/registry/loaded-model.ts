import { problem, type ProblemError } from '@app/problem';
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
  /**
   * Requests holding this model (ModelRegistry.acquire) from their first image to their last: a swapped-out
   * model is released only once none does, so a batch is answered by one version, whole.
   */
  leases: number;
  loadMs: number;
  warmupMs: number;
}

/** Where the configured model is; `manifest` is known as soon as it was read, before the weights load. */
export type ModelState =
  | { status: 'loading'; manifest?: ModelManifest }
  /** Known, not in memory: it loads on its first request (MODEL_STORE_MAX_LOADED). */
  | { status: 'unloaded'; manifest?: ModelManifest }
  | { status: 'ready'; manifest: ModelManifest; model: LoadedModel }
  | { status: 'failed'; manifest?: ModelManifest; reason: string };

/** Why a model cannot answer yet, or undefined when it is ready (the 503 detail every front-end gives). */
export function notReadyReason(name: string, state: ModelState): string | undefined {
  if (state.status === 'ready') return undefined;
  if (state.status === 'loading') return `Model ${name} is still loading; retry in a few seconds.`;
  if (state.status === 'unloaded') return `Model ${name} is not loaded; it loads on its first request.`;
  return `Model ${name} could not be loaded: ${state.reason}`;
}

/** The 404 for a version other than the one served (`served` empty while the model has not been read yet). */
export function versionNotServed(name: string, served: readonly string[], asked: string): ProblemError {
  return problem(
    'model_version_not_found',
    `Model ${name} serves version ${served.join(', ') || '(none yet)'}, not ${asked}; omit the version or ask for the one served.`,
  );
}
