import sharp from 'sharp';
import { ImageDecoder } from '@app/imaging';
import { type ResizeFidelity, type ResolvedModel } from '@app/inference';
import { ImageInference } from '@app/inference/workers/image-inference';
import { toModelInput } from '@app/inference/processing/to-model-input';
import { toProbabilities } from '@app/inference/processing/probabilities';

/** CPU milliseconds (all threads of this process) that `fn` takes, per call, after one warm-up call. */
async function cpuMs(calls: Array<() => Promise<unknown>>, repeats: number): Promise<number> {
  for (const call of calls) await call();
  const before = process.cpuUsage();
  for (let r = 0; r < repeats; r++) for (const call of calls) await call();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000 / (repeats * calls.length);
}

export function withFidelity(resolved: ResolvedModel, fidelity: ResizeFidelity): ResolvedModel {
  const { input } = resolved.manifest;
  return {
    ...resolved,
    manifest: { ...resolved.manifest, input: { ...input, resize: { ...input.resize, fidelity } } },
  };
}

export interface StageCosts {
  /** CPU ms per image on one thread, nothing else running in this process. */
  decodeExactMs: number;
  decodeFastMs: number;
  /** `fast` with libvips decoding JPEG too, as before libjpeg-turbo: what the faster decoder saves. */
  decodeFastLibvipsMs: number;
  /** Which decoder `decodeExactMs` and `decodeFastMs` used for JPEG. */
  jpegDecoder: string;
  /** sharp(bytes).resize(w, h) to raw pixels: libvips' own shrink-on-load resize, the floor for decoding. */
  bareSharpMs: number;
  inferenceMs: number;
}

/** Each stage alone, on the main thread of the bench (sharp, the engine, one thread each). */
export async function measureStages(
  resolved: ResolvedModel,
  photos: Buffer[],
  repeats: number,
): Promise<StageCosts> {
  const { width, height, resize } = resolved.manifest.input;
  const decoder = new ImageDecoder({ maxPixels: 40_000_000 });
  const target = { width, height, method: resize.method, fit: resize.fit };
  const decodeExactMs = await cpuMs(
    photos.map((bytes) => () => decoder.decode(bytes, { ...target, fidelity: 'exact' })),
    repeats,
  );
  const decodeFastMs = await cpuMs(
    photos.map((bytes) => () => decoder.decode(bytes, { ...target, fidelity: 'fast' })),
    repeats,
  );
  const libvips = new ImageDecoder({ maxPixels: 40_000_000, jpegDecoder: 'libvips' });
  const decodeFastLibvipsMs = await cpuMs(
    photos.map((bytes) => () => libvips.decode(bytes, { ...target, fidelity: 'fast' })),
    repeats,
  );
  const bareSharpMs = await cpuMs(
    photos.map((bytes) => () => sharp(bytes).resize(width, height, { fit: 'fill' }).raw().toBuffer()),
    repeats,
  );
  const inference = await ImageInference.open(resolved, {
    runtime: { floatEngine: 'onnxruntime', threads: 1 },
    maxPixels: 40_000_000,
    warmup: true,
  });
  try {
    const image = await decoder.decode(photos[0], target);
    const inferenceMs = await cpuMs(
      [() => inference.inferTensor(toModelInput(image, resolved.manifest.input))],
      Math.max(20, repeats * photos.length),
    );
    return {
      decodeExactMs,
      decodeFastMs,
      decodeFastLibvipsMs,
      jpegDecoder: decoder.jpegDecoder,
      bareSharpMs,
      inferenceMs,
    };
  } finally {
    inference.dispose();
  }
}

export interface FidelityResult {
  set: string;
  images: number;
  /** Images whose top class is the same through `exact` and `fast`. */
  top1Agreement: number;
  /** Largest |p_exact − p_fast| over every class of every image. */
  maxAbsDelta: number;
  /** Images whose top class is their label, per path. */
  correct: { exact: number; fast: number };
}

/** `exact` against `fast` on the same images through the real model (inline, one thread). */
export async function compareFidelity(
  resolved: ResolvedModel,
  sets: Array<{ name: string; images: Array<{ label: string; bytes: Buffer }> }>,
): Promise<FidelityResult[]> {
  const options = {
    runtime: { floatEngine: 'onnxruntime' as const, threads: 1 },
    maxPixels: 40_000_000,
    warmup: false,
  };
  const exact = await ImageInference.open(withFidelity(resolved, 'exact'), options);
  const fast = await ImageInference.open(withFidelity(resolved, 'fast'), options);
  const kind = resolved.manifest.output.kind;
  const top = (p: Float64Array) => p.indexOf(Math.max(...p));
  try {
    const results: FidelityResult[] = [];
    for (const set of sets) {
      const result: FidelityResult = {
        set: set.name,
        images: set.images.length,
        top1Agreement: 0,
        maxAbsDelta: 0,
        correct: { exact: 0, fast: 0 },
      };
      for (const { label, bytes } of set.images) {
        const a = toProbabilities((await exact.infer(bytes)).scores, kind);
        const b = toProbabilities((await fast.infer(bytes)).scores, kind);
        if (top(a) === top(b)) result.top1Agreement++;
        if (resolved.labels[top(a)] === label) result.correct.exact++;
        if (resolved.labels[top(b)] === label) result.correct.fast++;
        for (let i = 0; i < a.length; i++)
          result.maxAbsDelta = Math.max(result.maxAbsDelta, Math.abs(a[i] - b[i]));
      }
      results.push(result);
    }
    return results;
  } finally {
    exact.dispose();
    fast.dispose();
  }
}
