import type { Logger } from '@nestjs/common';
import { availableParallelism } from 'node:os';
import { INFERENCE_DEFAULTS, type InferenceModuleOptions } from '../inference.options';
import type { LoadedModel } from './loaded-model';
import { resolveModel } from '../manifest/manifest-loader';
import { ModelLoadError, ModelLoadTimeoutError } from '../manifest/model-load-error';
import type { ModelLocation } from '../manifest/model-location';
import { pullMissingModel } from '../pull/first-start-pull';
import { InferenceScheduler } from '../workers/inference-scheduler';
import { WorkerStartTimeoutError } from '../workers/worker-pool';

/** Verifies one model's files, starts its workers (each loads and warms the model) and logs one line. */
export async function loadModel(
  location: ModelLocation,
  options: InferenceModuleOptions,
  logger: Pick<Logger, 'log'>,
): Promise<LoadedModel> {
  const started = performance.now();
  if (location.pullIfMissing) await pullMissingModel(location.manifestPath, logger);
  const resolved = await resolveModel(location);
  const { name, version, format } = resolved.manifest;
  if (location.expected && (location.expected.name !== name || location.expected.version !== version)) {
    throw new ModelLoadError(
      `${location.manifestPath} describes ${name}@${version} but sits in ${location.expected.name}/${location.expected.version}/: make the manifest's name and version match its folders.`,
    );
  }
  const loadTimeoutMs = options.loadTimeoutMs ?? INFERENCE_DEFAULTS.loadTimeoutMs;
  const workerCount = options.workers ?? availableParallelism();
  const inference = await InferenceScheduler.start(resolved, {
    loadTimeoutMs,
    workers: workerCount,
    maxQueue: options.queueSize ?? INFERENCE_DEFAULTS.queueSize,
    background: {
      concurrency: options.backgroundWorkers || Math.max(1, workerCount - 1),
      maxQueue: options.backgroundQueueSize ?? INFERENCE_DEFAULTS.backgroundQueueSize,
    },
    timeoutMs: options.timeoutMs ?? INFERENCE_DEFAULTS.timeoutMs,
    maxPixels: options.maxImagePixels ?? INFERENCE_DEFAULTS.maxImagePixels,
    warmup: options.warmup !== false,
    runtime: {
      floatEngine: options.floatEngine ?? INFERENCE_DEFAULTS.floatEngine,
      threads: options.threadsPerWorker ?? INFERENCE_DEFAULTS.threadsPerWorker,
    },
  }).catch((error: unknown) => {
    if (!(error instanceof WorkerStartTimeoutError)) throw error;
    const step = error.stage ? `while ${error.stage}` : 'before reporting any step';
    throw new ModelLoadTimeoutError(
      `Model ${name}@${version} did not finish loading and warming up within ${loadTimeoutMs / 1000} s (MODEL_LOAD_TIMEOUT_SECONDS): it stalled ${step}, so its workers were stopped.`,
    );
  });
  const { engine, backend, workers, threadsPerWorker, warmupMs, jpegDecoder } = inference.info;
  const loadMs = performance.now() - started - warmupMs;
  const layout =
    workers === 0
      ? 'on the main thread'
      : `in ${workers} worker${workers > 1 ? 's' : ''} × ${threadsPerWorker} thread${threadsPerWorker > 1 ? 's' : ''}`;
  logger.log(
    `Model ${name}@${version} (${format}) ready on ${engine}/${backend} ${layout}: loaded in ${Math.round(loadMs)} ms, warmed in ${Math.round(warmupMs)} ms; JPEG decoded with ${jpegDecoder}`,
  );
  return {
    resolved,
    runtime: { engine, backend, workers, threadsPerWorker },
    inference,
    loadedAt: new Date(),
    leases: 0,
    loadMs,
    warmupMs,
  };
}
