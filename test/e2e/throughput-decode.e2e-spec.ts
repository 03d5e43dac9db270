import { readFileSync } from 'node:fs';
import { Logger } from '@nestjs/common';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as TfCore from '@tensorflow/tfjs-core';
import { ImageDecoder } from '@app/imaging';
import { resolveModel, type ModelRuntime, type ResolvedModel } from '@app/inference';
import { createRuntime } from '@app/inference/runtimes/create-runtime';
import { toModelInput } from '@app/inference/processing/to-model-input';
import { toProbabilities } from '@app/inference/processing/probabilities';
import { FIXTURE_MODELS, foodPhotos } from '../support/shared-data';

/**
 * The workers decode with sharp/libvips. Its resize must keep the preprocessing the model expects: the whole
 * photo resized bilinearly as `tf.image.resize` does. On every real photo, the top class with the service's
 * decoder must be the top class with TF.js's own resize of the fully decoded photo.
 */
describe('fast decoding keeps the model’s answers on the real photos', () => {
  let tf: typeof TfCore;
  let resolved: ResolvedModel;
  let runtime: ModelRuntime;

  beforeAll(async () => {
    Logger.overrideLogger(['error', 'warn']);
    tf = await import('@tensorflow/tfjs-core');
    await import('@tensorflow/tfjs-backend-cpu');
    await tf.setBackend('cpu');
    const fixture = FIXTURE_MODELS.food101Tflite;
    resolved = await resolveModel({ manifestPath: fixture.manifest, modelDir: fixture.dir });
    runtime = await createRuntime(resolved);
  });

  afterAll(() => runtime?.dispose());

  /** TF.js reference: decode the whole photo, tf.image.resizeBilinear with half-pixel centres, round to 8 bits. */
  async function referencePixels(
    bytes: Buffer,
    width: number,
    height: number,
  ): Promise<Uint8Array<ArrayBuffer>> {
    const { data, info } = await sharp(bytes)
      .autoOrient()
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    const image = tf.tensor3d(new Uint8Array(data), [info.height, info.width, 3], 'int32');
    const resized = tf.image.resizeBilinear(image, [height, width], false, true);
    const pixels = new Uint8Array(new ArrayBuffer(width * height * 3));
    pixels.set(Array.from(await resized.data(), (value) => Math.min(255, Math.max(0, Math.round(value)))));
    image.dispose();
    resized.dispose();
    return pixels;
  }

  it('gives TF.js’s pixels (within rounding) and its top-1 class on every photo', async () => {
    const { input, output } = resolved.manifest;
    const decoder = new ImageDecoder({ maxPixels: 40_000_000 });
    const probabilities = async (pixels: Uint8Array<ArrayBuffer>) =>
      toProbabilities(
        await runtime.run(toModelInput({ data: pixels, width: input.width, height: input.height }, input)),
        output.kind,
      );
    const mismatches: string[] = [];
    for (const photo of foodPhotos()) {
      const bytes = readFileSync(photo.path);
      const served = await decoder.decode(bytes, {
        width: input.width,
        height: input.height,
        method: input.resize.method,
        fit: input.resize.fit,
      });
      const reference = await referencePixels(bytes, input.width, input.height);
      const largestPixelDifference = served.data.reduce(
        (max, value, i) => Math.max(max, Math.abs(value - reference[i])),
        0,
      );
      expect(largestPixelDifference, photo.file).toBeLessThanOrEqual(1);
      const servedScores = await probabilities(served.data);
      const referenceScores = await probabilities(reference);
      const servedTop = servedScores.indexOf(Math.max(...servedScores));
      // The int8 model's outputs move in steps of 1/256: classes that close to the best are a tie.
      const best = Math.max(...referenceScores);
      const tied = Array.from(referenceScores).flatMap((score, i) => (score >= best - 1 / 256 ? [i] : []));
      if (!tied.includes(servedTop)) {
        mismatches.push(
          `${photo.file}: ${resolved.labels[servedTop]} vs ${tied.map((i) => resolved.labels[i]).join('/')}`,
        );
      }
    }
    expect(mismatches).toEqual([]);
  });
});
