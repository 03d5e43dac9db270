import type { Box } from './resize-plan';

/** Interleaved 8-bit RGB pixels. */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

const f32 = Math.fround;

/** For one output axis: the two source indices and the weight of the upper one, per output position. */
function axisTaps(offset: number, inSize: number, outSize: number, sourceSize: number) {
  const scale = f32(inSize / outSize);
  const lower = new Int32Array(outSize);
  const upper = new Int32Array(outSize);
  const lerp = new Float32Array(outSize);
  for (let i = 0; i < outSize; i++) {
    // TensorFlow's half-pixel centres (HalfPixelScaler), in float32.
    const at = f32(f32(f32(i + 0.5) * scale) - 0.5);
    const floor = Math.floor(at);
    lower[i] = offset + Math.min(Math.max(floor, 0), inSize - 1);
    upper[i] = offset + Math.min(Math.max(Math.ceil(at), 0), inSize - 1);
    lerp[i] = f32(at - floor);
    if (upper[i] >= sourceSize) upper[i] = sourceSize - 1;
  }
  return { lower, upper, lerp };
}

/** EXIF orientations 5–8 store the displayed image transposed: a displayed column is a stored row. */
export function transposes(orientation: number): boolean {
  return orientation >= 5;
}

/**
 * Byte offsets into the stored pixels of displayed columns (`axis` x) or rows (`axis` y) under an EXIF
 * orientation, so the sampler reads a rotated or mirrored photo in place, as libvips' autorotate would show it.
 */
function storedOffsets(indices: Int32Array, axis: 'x' | 'y', orientation: number, stored: RgbImage) {
  const stride = stored.width * 3;
  // Which stored axis this displayed axis runs along, and whether it runs backwards.
  const alongRows = transposes(orientation) ? axis === 'y' : axis === 'x';
  const reversed = axis === 'x' ? [2, 3, 6, 7].includes(orientation) : [3, 4, 7, 8].includes(orientation);
  const last = alongRows ? stored.width - 1 : stored.height - 1;
  const step = alongRows ? 3 : stride;
  const offsets = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) offsets[i] = (reversed ? last - indices[i] : indices[i]) * step;
  return offsets;
}

/**
 * `tf.image.resize(image[crop], size, 'bilinear')` (half-pixel centres, no antialiasing, edges clamped), written
 * from TensorFlow's kernel: it reads only the 4 source pixels around each output pixel, so it costs the same on a
 * 12 MP photo as on a small one. Values are rounded to 8 bits as the model input is built from bytes. `crop` is in
 * the displayed image: `source` as stored, turned by its EXIF `orientation` (1, as stored, by default).
 */
export function resizeBilinear(
  source: RgbImage,
  crop: Box,
  width: number,
  height: number,
  orientation = 1,
): RgbImage {
  const [shownWidth, shownHeight] = transposes(orientation)
    ? [source.height, source.width]
    : [source.width, source.height];
  const xs = axisTaps(crop.left, crop.width, width, shownWidth);
  const ys = axisTaps(crop.top, crop.height, height, shownHeight);
  const left = storedOffsets(xs.lower, 'x', orientation, source);
  const right = storedOffsets(xs.upper, 'x', orientation, source);
  const tops = storedOffsets(ys.lower, 'y', orientation, source);
  const bottoms = storedOffsets(ys.upper, 'y', orientation, source);
  const out = new Uint8Array(width * height * 3);
  const src = source.data;
  const dxs = xs.lerp;
  let o = 0;
  for (let y = 0; y < height; y++) {
    const top = tops[y];
    const bottom = bottoms[y];
    const dy = ys.lerp[y];
    for (let x = 0; x < width; x++) {
      const tl = top + left[x];
      const tr = top + right[x];
      const bl = bottom + left[x];
      const br = bottom + right[x];
      const dx = dxs[x];
      // The three channels written out: one loop over c cost a third more here, on every pixel of every request.
      let upperRow = src[tl] + (src[tr] - src[tl]) * dx;
      let lowerRow = src[bl] + (src[br] - src[bl]) * dx;
      // Non-negative, so adding 0.5 and letting the Uint8Array truncate rounds half up, without a call.
      out[o] = upperRow + (lowerRow - upperRow) * dy + 0.5;
      upperRow = src[tl + 1] + (src[tr + 1] - src[tl + 1]) * dx;
      lowerRow = src[bl + 1] + (src[br + 1] - src[bl + 1]) * dx;
      out[o + 1] = upperRow + (lowerRow - upperRow) * dy + 0.5;
      upperRow = src[tl + 2] + (src[tr + 2] - src[tl + 2]) * dx;
      lowerRow = src[bl + 2] + (src[br + 2] - src[bl + 2]) * dx;
      out[o + 2] = upperRow + (lowerRow - upperRow) * dy + 0.5;
      o += 3;
    }
  }
  return { data: out, width, height };
}
