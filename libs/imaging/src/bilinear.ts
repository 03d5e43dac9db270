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

/**
 * `tf.image.resize(image[crop], size, 'bilinear')` (half-pixel centres, no antialiasing, edges clamped), written
 * from TensorFlow's kernel: it reads only the 4 source pixels around each output pixel, so it costs the same on a
 * 12 MP photo as on a small one. Values are rounded to 8 bits as the model input is built from bytes.
 */
export function resizeBilinear(source: RgbImage, crop: Box, width: number, height: number): RgbImage {
  const xs = axisTaps(crop.left, crop.width, width, source.width);
  const ys = axisTaps(crop.top, crop.height, height, source.height);
  const out = new Uint8Array(width * height * 3);
  const src = source.data;
  const stride = source.width * 3;
  const left = xs.lower;
  const right = xs.upper;
  const dxs = xs.lerp;
  let o = 0;
  for (let y = 0; y < height; y++) {
    const top = ys.lower[y] * stride;
    const bottom = ys.upper[y] * stride;
    const dy = ys.lerp[y];
    for (let x = 0; x < width; x++) {
      const tl = top + left[x] * 3;
      const tr = top + right[x] * 3;
      const bl = bottom + left[x] * 3;
      const br = bottom + right[x] * 3;
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
