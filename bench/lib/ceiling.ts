import { InferenceScheduler, resolveModel, type FloatModelEngine, type ModelLocation } from '@app/inference';

export interface CeilingResult {
  workers: number;
  threadsPerWorker: number;
  engine: string;
  imagesPerSecond: number;
  /** Mean time of each step inside a worker. */
  decodeMs: number;
  inferenceMs: number;
}

/**
 * The most the hardware gives: decode + resize + inference in a tight loop on `workers` worker threads, no HTTP,
 * every worker kept busy (two images in flight per worker) for `seconds` after a warm-up.
 */
export async function measureCeiling(options: {
  model: ModelLocation;
  photos: Buffer[];
  workers: number;
  threadsPerWorker: number;
  floatEngine: FloatModelEngine;
  seconds: number;
}): Promise<CeilingResult> {
  const resolved = await resolveModel(options.model);
  const scheduler = await InferenceScheduler.start(resolved, {
    workers: options.workers,
    maxQueue: 1_000,
    timeoutMs: 120_000,
    maxPixels: 40_000_000,
    warmup: true,
    runtime: { floatEngine: options.floatEngine, threads: options.threadsPerWorker },
  });
  try {
    let next = 0;
    let decodeMs = 0;
    let inferenceMs = 0;
    const loop = async (until: number): Promise<number> => {
      let done = 0;
      while (performance.now() < until) {
        const reply = await scheduler.run({
          kind: 'image',
          bytes: options.photos[next++ % options.photos.length],
        });
        decodeMs += reply.decodeMs;
        inferenceMs += reply.inferenceMs;
        done++;
      }
      return done;
    };
    const lanes = Math.max(1, options.workers) * 2;
    const warmUntil = performance.now() + 1_500;
    await Promise.all(Array.from({ length: lanes }, () => loop(warmUntil)));
    decodeMs = 0;
    inferenceMs = 0;
    const started = performance.now();
    const counts = await Promise.all(
      Array.from({ length: lanes }, () => loop(started + options.seconds * 1000)),
    );
    const elapsed = (performance.now() - started) / 1000;
    const images = counts.reduce((a, b) => a + b, 0);
    return {
      workers: options.workers,
      threadsPerWorker: options.threadsPerWorker,
      engine: `${scheduler.info.engine}/${scheduler.info.backend}`,
      imagesPerSecond: images / elapsed,
      decodeMs: decodeMs / images,
      inferenceMs: inferenceMs / images,
    };
  } finally {
    await scheduler.close();
  }
}
