import { extname, join } from 'node:path';
import { problem } from '@app/problem';
import type { ResolvedModel } from '../manifest/resolved-model';
import {
  AdmissionQueue,
  type AdmissionOptions,
  type AdmissionStats,
  type SubmitOptions,
} from './admission-queue';
import {
  ImageInference,
  type ImageInferenceOptions,
  type InferenceInfo,
  type InferenceReply,
  type InferenceTask,
} from './image-inference';
import { pinNativeAddons } from './native-addons';
import { toPlainModel, type PlainResolvedModel } from './plain-model';
import { WorkerCrashedError, WorkerPool, WorkerStartTimeoutError, type WorkerPoolStats } from './worker-pool';

/** What each inference worker gets as `workerData`. */
export interface InferenceWorkerSetup extends ImageInferenceOptions {
  model: PlainResolvedModel;
}

export interface SchedulerOptions extends ImageInferenceOptions, Omit<AdmissionOptions, 'concurrency'> {
  /** Worker threads, each with its own model; 0 runs decode and inference on the main thread. */
  workers: number;
  /** Deadline for loading and warming up the model (WorkerStartTimeoutError past it); none when absent. */
  loadTimeoutMs?: number;
}

export interface InferenceStats extends AdmissionStats {
  workers: number;
  pool?: WorkerPoolStats;
}

/** The worker entry beside this file: `.ts` from sources, `.js` once built. */
const WORKER_FILE = join(__dirname, `inference-worker${extname(__filename)}`);

function withDeadline<T>(work: Promise<T>, ms: number | undefined): Promise<T> {
  if (ms === undefined) return work;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new WorkerStartTimeoutError(ms, undefined)), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

/**
 * A tensor task's input moves to the worker instead of being copied when it owns its whole buffer (the data plane
 * builds each one so); image bytes are copied, since the caller's buffer may be shared (a body, a pool slab).
 */
function transferOf(task: InferenceTask): ArrayBuffer[] {
  if (task.kind !== 'tensor') return [];
  const { data } = task.input;
  return data.byteOffset === 0 && data.byteLength === data.buffer.byteLength ? [data.buffer] : [];
}

type InferencePool = WorkerPool<InferenceWorkerSetup, InferenceTask, InferenceReply, InferenceInfo>;

/**
 * Classifies image bytes off the event loop: a pool of worker threads (or the main thread when workers is 0)
 * behind a bounded admission queue with a deadline. The only way the app runs the model.
 */
export class InferenceScheduler {
  private readonly queue: AdmissionQueue<InferenceTask, InferenceReply>;

  private constructor(
    readonly info: InferenceInfo & { workers: number; threadsPerWorker: number },
    options: SchedulerOptions,
    execute: (task: InferenceTask) => Promise<InferenceReply>,
    private readonly release: () => Promise<void>,
    readonly pool?: InferencePool,
  ) {
    this.queue = new AdmissionQueue({ ...options, concurrency: Math.max(1, options.workers) }, execute);
  }

  /** Loads the model in every worker (or inline) and resolves once all are warm; throws why one could not load. */
  static async start(resolved: ResolvedModel, options: SchedulerOptions): Promise<InferenceScheduler> {
    const threadsPerWorker = options.runtime.threads;
    if (options.workers === 0) {
      // On the main thread a stalled load cannot be stopped, only reported: the deadline still fails it.
      const inline = await withDeadline(ImageInference.open(resolved, options), options.loadTimeoutMs);
      const info = { ...inline.info, workers: 0, threadsPerWorker };
      return new InferenceScheduler(
        info,
        options,
        (task) => inline.run(task),
        () => Promise.resolve(inline.dispose()),
      );
    }
    pinNativeAddons();
    const setup: InferenceWorkerSetup = {
      model: toPlainModel(resolved),
      runtime: options.runtime,
      maxPixels: options.maxPixels,
      warmup: options.warmup,
    };
    const { pool, infos } = await WorkerPool.start<
      InferenceWorkerSetup,
      InferenceTask,
      InferenceReply,
      InferenceInfo
    >({
      file: WORKER_FILE,
      size: options.workers,
      setup,
      name: 'InferenceWorkers',
      // The client has had its 503 at timeoutMs; a task still running at twice that is stuck, not slow.
      stuckTaskMs: options.timeoutMs * 2,
      startTimeoutMs: options.loadTimeoutMs,
    });
    const info = {
      ...infos[0],
      loadMs: Math.max(...infos.map((one) => one.loadMs)),
      warmupMs: Math.max(...infos.map((one) => one.warmupMs)),
      workers: options.workers,
      threadsPerWorker,
    };
    const execute = (task: InferenceTask) =>
      pool.run(task, transferOf(task)).catch((error: unknown) => {
        if (error instanceof WorkerCrashedError) {
          throw problem(
            'inference_worker_failed',
            'The inference worker stopped while classifying this image (it has been replaced); retry once.',
            { retry_after_seconds: 1 },
          );
        }
        throw error;
      });
    return new InferenceScheduler(info, options, execute, () => pool.close(), pool);
  }

  /**
   * Runs one task on a worker: an image file is decoded, resized and classified; a tensor is classified as is.
   * Rejects with 503 when its lane's queue is full or the deadline passes. `onStart` runs as the task leaves the
   * queue; `lane: 'background'` runs it only on a worker no interactive request wants.
   */
  run(task: InferenceTask, options: SubmitOptions = {}): Promise<InferenceReply> {
    return this.queue.submit(task, options);
  }

  stats(): InferenceStats {
    return {
      ...this.queue.stats(),
      workers: this.info.workers,
      ...(this.pool ? { pool: this.pool.stats() } : {}),
    };
  }

  close(): Promise<void> {
    return this.release();
  }
}
