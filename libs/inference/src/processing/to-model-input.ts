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
 * `value_range`, then `(x - mean) / std` per channel. uint8 models take the raw pixels. A float tensor is written
 * into `into` when it has the right length (a buffer the caller reuses), else into a new array.
 */
export function toModelInput(
  image: RgbImage,
  spec: ModelInputSpec,
  into?: Float32Array<ArrayBuffer>,
): ModelInput {
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
  const lookup = valueLookup(spec);
  const out = into?.length === image.data.length ? into : new Float32Array(image.data.length);
  const pixels = image.data;
  // Channel c of the output reads channel `first`, 1 or `last` of the pixel, each through its own 256-entry table.
  const first = bgr ? 2 : 0;
  const last = 2 - first;
  for (let i = 0; i < out.length; i += 3) {
    out[i] = lookup[pixels[i + first]];
    out[i + 1] = lookup[256 + pixels[i + 1]];
    out[i + 2] = lookup[512 + pixels[i + last]];
  }
  return { data: out, shape };
}

const lookups = new WeakMap<ModelInputSpec, Float32Array>();

/**
 * The model value of each byte per output channel: `(byte · scale + low − mean) / std`, computed once per spec in
 * the same order (and so to the same float32) as per pixel, which cost a division per value on every request.
 */
function valueLookup(spec: ModelInputSpec): Float32Array {
  const cached = lookups.get(spec);
  if (cached) return cached;
  const [low, high] = spec.value_range;
  const scale = (high - low) / 255;
  const mean = spec.mean ?? [0, 0, 0];
  const std = spec.std ?? [1, 1, 1];
  const lookup = new Float32Array(3 * 256);
  for (let c = 0; c < 3; c++)
    for (let byte = 0; byte < 256; byte++) lookup[c * 256 + byte] = (byte * scale + low - mean[c]) / std[c];
  lookups.set(spec, lookup);
  return lookup;
}
