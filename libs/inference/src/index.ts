// The inference library's public face: what the app, the scripts and the benchmarks use. Tests of internals
// import those files by path.

// The Nest module and its options.
export { InferenceModule } from './inference.module';
export { INFERENCE_DEFAULTS, INFERENCE_OPTIONS, type InferenceModuleOptions } from './inference.options';
export type { FloatModelEngine } from './runtimes/float-model-runtime';

// Classifying one image or tensor with a served model.
export {
  ClassifierService,
  type ClassPrediction,
  type Classification,
  type ClassifierLease,
  type ClassifyImageOptions,
  type ImageClassification,
  type TensorClassification,
} from './classifier.service';
export type { RgbImage } from './processing/to-model-input';
export { topK, topTwo } from './processing/probabilities';
export * from './explain';
export * from './profile';
export type { Lane } from './workers/admission-queue';
export type { InferenceStats } from './workers/inference-scheduler';

// The served models.
export {
  ModelRegistry,
  type RolloutView,
  type ServedModel,
  type VersionRole,
} from './registry/model-registry';
export {
  AutoRollbackPolicy,
  parseRolloutPolicy,
  ROLLOUT_FILE,
  ROLLOUT_MODES,
  RolloutPolicy,
  type RolloutMode,
} from './registry/rollout-policy';
export { notReadyReason, versionNotServed, type ModelState, type ServingInfo } from './registry/loaded-model';
export { scanModelRepository, type RepositoryModel } from './registry/model-repository';
export { ModelFolderError, readModelFolder, type ModelFolder } from './registry/model-folder';

// Manifests: what a model is and how to feed it.
export * from './manifest/model-manifest';
export { ModelLoadError, ModelLoadTimeoutError } from './manifest/model-load-error';
export { readManifest, resolveModel } from './manifest/manifest-loader';
export type { ModelLocation, ModelSelector } from './manifest/model-location';
export type { ResolvedModel } from './manifest/resolved-model';
export type { ModelInput, ModelRuntime, RuntimeInfo } from './runtimes/model-runtime';

// Tools: drafting a manifest for a folder of model files, pulling the files a manifest pins.
export { draftManifest, type DraftOptions, type ManifestDraft } from './draft/manifest-draft';
export type { LambdaClip } from '@app/keras';
export { pullModel, PullError, ProgressReporter } from './pull';
