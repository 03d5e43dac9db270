import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { FloatModelEngine } from './runtimes/float-model-runtime';

export interface InferenceModuleOptions {
  /** The model's manifest.json (one model; ignored when `modelStore` is set). */
  manifestPath: string;
  /** Folder with the model files; defaults to the manifest's folder. */
  modelDir?: string;
  /** A model repository `<store>/<model>/<version>/manifest.json`: every model in it is served (latest version). */
  modelStore?: string;
  /** With a model store: the model for requests that name none (default: the first by name). */
  defaultModel?: string;
  /** With a model store: rescan it every N seconds and swap in new versions (0 = off, the default). */
  storePollSeconds?: number;
  /**
   * With a model store: at most this many models loaded at once (0 = every model, the default). Models then load
   * on their first request, and the least recently used one is unloaded to make room.
   */
  maxLoaded?: number;
  /** Models never unloaded (the default model never is either); they load at start. */
  pinned?: string[];
  /** How long a request waits for its model to load before a 503 `model_loading` (ms, default 10 000). */
  loadWaitMs?: number;
  /** Run one inference on a blank image before reporting ready (default true). */
  warmup?: boolean;
  /** Worker threads that decode and classify, each with its own model (default: one per core); 0 = main thread. */
  workers?: number;
  /** Engine threads per worker (onnxruntime intra-op threads; default 1). */
  threadsPerWorker?: number;
  /** Requests that may wait for a free worker (default 64); beyond that, 503 `overloaded` at once. */
  queueSize?: number;
  /** Deadline for one classification, waiting included, in ms (default 5000); past it, 503 `inference_timeout`. */
  timeoutMs?: number;
  /**
   * Workers background work (explanations) may hold at once; 0 or absent: one fewer than `workers`, at least one.
   * Background work only ever takes a worker no interactive request is waiting for.
   */
  backgroundWorkers?: number;
  /** Background tasks that may wait (default 64); beyond that, 503 `overloaded` for that work alone. */
  backgroundQueueSize?: number;
  /** Engine for float (Keras/TF.js layers) models: converted to ONNX for `onnxruntime` (default) or `tfjs`. */
  floatEngine?: FloatModelEngine;
  /** Largest image decoded, in pixels, checked from the header (default 40 000 000). */
  maxImagePixels?: number;
  /** Deadline for loading and warming up a model, in ms (default 120 000); past it its workers are stopped. */
  loadTimeoutMs?: number;
}

export const INFERENCE_DEFAULTS = {
  threadsPerWorker: 1,
  queueSize: 64,
  backgroundQueueSize: 64,
  timeoutMs: 5_000,
  floatEngine: 'onnxruntime',
  maxImagePixels: 40_000_000,
  loadTimeoutMs: 120_000,
  loadWaitMs: 10_000,
} as const satisfies Partial<InferenceModuleOptions>;

export const {
  ConfigurableModuleClass: ConfigurableInferenceModule,
  MODULE_OPTIONS_TOKEN: INFERENCE_OPTIONS,
  OPTIONS_TYPE: INFERENCE_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: INFERENCE_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<InferenceModuleOptions>()
  .setClassMethodName('forRoot')
  .setExtras({ isGlobal: true }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build();
