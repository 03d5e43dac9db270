/**
 * npx tsx scripts/measure-float16-drift.ts [photo count, default 12]
 *
 * How far float16 compute (the seed's `mixed_float16` on CPU) moves the default model's probabilities from
 * the float32 this service computes: on a weight-random replica of the default model (its real Keras 2.7
 * config, seeded weights), the food photos resized to 224×224 (the 13th calibrates the replica's batch-norm statistics), each run twice through the independent
 * reference forward pass: float32, and float16-emulated in every layer whose dtype policy is mixed_float16.
 */
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { referenceForward, type Tensor } from '../test/support/keras-reference';
import { EFFICIENTNETB0_CONFIG_PATH, kerasReplica, readModelConfig } from '../test/support/keras-replica';
import { foodPhotos } from '../test/support/shared-data';

async function pixels(path: string): Promise<Tensor> {
  const { data } = await sharp(readFileSync(path))
    .resize(224, 224, { fit: 'fill' })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { shape: [224, 224, 3], data: Float32Array.from(data) };
}

async function main(): Promise<void> {
  const all = foodPhotos();
  // Batch-norm statistics calibrated on the last photo, so photos are in distribution (random weights on
  // photos otherwise saturate the softmax, where no drift can show).
  const calibration = await pixels(all[all.length - 1].path);
  const replica = kerasReplica(readModelConfig(EFFICIENTNETB0_CONFIG_PATH), { seed: 12, calibration });
  let worst = 0;
  let sameTop1 = 0;
  const photos = all.slice(0, Math.min(Number(process.argv[2] ?? 12), all.length - 1));
  for (const photo of photos) {
    const input = await pixels(photo.path);
    const full = referenceForward(replica.modelConfig, input, replica.weights).data;
    const half = referenceForward(replica.modelConfig, input, replica.weights, {
      float16Layers: 'policy',
    }).data;
    const diff = Math.max(...Array.from(full, (value, i) => Math.abs(value - half[i])));
    const top = (values: Float32Array) => values.indexOf(Math.max(...values));
    worst = Math.max(worst, diff);
    if (top(full) === top(half)) sameTop1++;
    process.stdout.write(
      `${photo.file}: max |p32 - p16| ${diff.toExponential(2)}, top-1 ${top(full) === top(half) ? 'same' : 'differs'} (p32 ${Math.max(...full).toFixed(4)}, p16 ${Math.max(...half).toFixed(4)})\n`,
    );
  }
  process.stdout.write(`worst ${worst.toExponential(2)}; top-1 unchanged on ${sameTop1}/${photos.length}\n`);
}

void main();
