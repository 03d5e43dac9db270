import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { FloatModelEngine, ModelLocation } from '@app/inference';

type InferenceLibrary = typeof import('@app/inference');
type SchedulerModule = typeof import('@app/inference/workers/inference-scheduler');

export interface CeilingResult {
  workers: number;
  threadsPerWorker: number;
  engine: string;
  imagesPerSecond: number;
  /** Mean time of each step inside a worker. */
  decodeMs: number;
  inferenceMs: number;
}

export interface Ceiling {
  /** Decode + resize + inference for `seconds`, every worker kept busy (two images in flight per worker). */
  measure(seconds: number): Promise<CeilingResult>;
  close(): Promise<void>;
}

/**
 * The most the hardware gives, no HTTP: the compiled workers the server runs (`inferenceLibrary`, the built
 * library), driven directly. Warmed for `warmSeconds` first, so WebAssembly and JIT tiers are as warm as in a
 * server that has been running; keep it open to measure again under the same conditions.
 */
export async function openCeiling(options: {
  inferenceLibrary: string;
  model: ModelLocation;
  photos: Buffer[];
  workers: number;
  threadsPerWorker: number;
  floatEngine: FloatModelEngine;
  warmSeconds: number;
}): Promise<Ceiling> {
  const load = createRequire(__filename);
  const { resolveModel } = load(join(options.inferenceLibrary, 'index.js')) as InferenceLibrary;
  const { InferenceScheduler } = load(
    join(options.inferenceLibrary, 'workers', 'inference-scheduler.js'),
  ) as SchedulerModule;
  const resolved = await resolveModel(options.model);
  const scheduler = await InferenceScheduler.start(resolved, {
    workers: options.workers,
    maxQueue: 1_000,
    timeoutMs: 120_000,
    maxPixels: 40_000_000,
    warmup: true,
    runtime: { floatEngine: options.floatEngine, threads: options.threadsPerWorker },
  });
  let next = 0;
  const lanes = Math.max(1, options.workers) * 2;
  const run = async (seconds: number) => {
    const totals = { images: 0, decodeMs: 0, inferenceMs: 0 };
    const until = performance.now() + seconds * 1000;
    const lane = async () => {
      while (performance.now() < until) {
        const bytes = options.photos[next++ % options.photos.length];
        const reply = await scheduler.run({ kind: 'image', bytes });
        totals.images++;
        totals.decodeMs += reply.decodeMs;
        totals.inferenceMs += reply.inferenceMs;
      }
    };
    const started = performance.now();
    await Promise.all(Array.from({ length: lanes }, lane));
    return { ...totals, elapsed: (performance.now() - started) / 1000 };
  };
  try {
    await run(options.warmSeconds);
  } catch (error) {
    await scheduler.close();
    throw error;
  }
  return {
    measure: async (seconds) => {
      const { images, decodeMs, inferenceMs, elapsed } = await run(seconds);
      return {
        workers: options.workers,
        threadsPerWorker: options.threadsPerWorker,
        engine: `${scheduler.info.engine}/${scheduler.info.backend}`,
        imagesPerSecond: images / elapsed,
        decodeMs: decodeMs / images,
        inferenceMs: inferenceMs / images,
      };
    },
    close: () => scheduler.close(),
  };
}
