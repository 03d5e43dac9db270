import type { ModelManifest } from './manifest/model-manifest';
import type { ResolvedModel } from './manifest/resolved-model';
import type { ModelRuntime } from './runtimes/model-runtime';

export interface LoadedModel {
  resolved: ResolvedModel;
  runtime: ModelRuntime;
  loadedAt: Date;
  loadMs: number;
  warmupMs: number;
}

/** Where the configured model is; `manifest` is known as soon as it was read, before the weights load. */
export type ModelState =
  | { status: 'loading'; manifest?: ModelManifest }
  | { status: 'ready'; manifest: ModelManifest; model: LoadedModel }
  | { status: 'failed'; manifest?: ModelManifest; reason: string };
