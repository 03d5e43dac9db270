import type { ModelInputSpec } from '../manifest/model-manifest';
import type { ModelInput } from '../runtimes/model-runtime';

/** Interleaved 8-bit RGB pixels, already resized to the model's input size. */
export interface RgbImage {
  data: Uint8Array<ArrayBuffer>;
  width: number;
  height: number;
}

/**
 * Turns RGB pixels into the tensor the manifest describes: channel order, then 0..255 mapped linearly onto
 * `value_range`, then `(x - mean) / std` per channel. uint8 models take the raw pixels.
 */
export function toModelInput(image: RgbImage, spec: ModelInputSpec): ModelInput {
  if (
    image.width !== spec.width ||
    image.height !== spec.height ||
    image.data.length !== spec.width * spec.height * 3
  ) {
    throw new Error(`Expected ${spec.width}×${spec.height} RGB pixels, got ${image.width}×${image.height}.`);
  }
  const shape: ModelInput['shape'] = [1, spec.height, spec.width, 3];
  const bgr = spec.channel_order === 'BGR';
  if (spec.dtype === 'uint8') {
    if (!bgr) return { data: image.data, shape };
    const swapped = new Uint8Array(image.data.length);
    for (let i = 0; i < swapped.length; i += 3) {
      swapped[i] = image.data[i + 2];
      swapped[i + 1] = image.data[i + 1];
      swapped[i + 2] = image.data[i];
    }
    return { data: swapped, shape };
  }
  const [low, high] = spec.value_range;
  const scale = (high - low) / 255;
  const mean = spec.mean ?? [0, 0, 0];
  const std = spec.std ?? [1, 1, 1];
  const out = new Float32Array(image.data.length);
  for (let i = 0; i < out.length; i += 3) {
    for (let c = 0; c < 3; c++) {
      const source = bgr ? 2 - c : c;
      out[i + c] = (image.data[i + source] * scale + low - mean[c]) / std[c];
    }
  }
  return { data: out, shape };
}
