import sharp, { type Sharp } from 'sharp';
import type { Box, ResizeKernel } from './resize-plan';

/** Interleaved 8-bit RGB. */
export interface RgbPixels {
  data: Buffer;
  width: number;
  height: number;
}

/** Edge pixels copied around the image so interpolation at the border reads the border (TensorFlow clamps). */
const EDGE = 2;

/**
 * Resizes `crop` of an RGB pipeline to `size` the way `tf.image.resize` does (half-pixel centres, no
 * antialiasing), so served pixels match the model's training pipeline:
 * - `bilinear` samples with libvips' bilinear interpolator on the inverse affine map
 *   x_in = (x_out + 0.5) · in/out − 0.5, which is TensorFlow's formula; the image streams through libvips.
 * - `nearest` picks pixel ⌊(x_out + 0.5) · in/out⌋ in float32 like TensorFlow; it needs the decoded image.
 * - `bicubic` uses libvips' Catmull-Rom interpolator (TensorFlow's Keys a = −0.5) on the same map.
 * - `lanczos3` has no point-sampling interpolator in libvips: it uses libvips' lanczos3 reduce (antialiased).
 */
export async function resample(
  pipeline: Sharp,
  crop: Box,
  size: { width: number; height: number },
  method: ResizeKernel,
): Promise<RgbPixels> {
  const cropped = pipeline.extract(crop);
  switch (method) {
    case 'bilinear': {
      const upscales = size.width > crop.width || size.height > crop.height;
      // Downscaling samples only inside the image; upscaling reaches half a pixel past the border.
      return upscales
        ? affine(await withCopiedEdges(cropped, crop), crop, size, sharp.interpolators.bilinear, EDGE)
        : affine(cropped, crop, size, sharp.interpolators.bilinear, 0);
    }
    case 'bicubic':
      return affine(await withCopiedEdges(cropped, crop), crop, size, sharp.interpolators.bicubic, EDGE);
    case 'nearest':
      return nearest(await rgb(cropped), size);
    case 'lanczos3':
      return rgb(
        cropped.resize(size.width, size.height, { fit: 'fill', kernel: 'lanczos3', fastShrinkOnLoad: false }),
      );
  }
}

async function rgb(pipeline: Sharp): Promise<RgbPixels> {
  const { data, info } = await pipeline
    .removeAlpha()
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`expected 3 channels, got ${info.channels}`);
  return { data, width: info.width, height: info.height };
}

async function withCopiedEdges(pipeline: Sharp, crop: Box): Promise<Sharp> {
  const padded = await rgb(
    pipeline.extend({ top: EDGE, bottom: EDGE, left: EDGE, right: EDGE, extendWith: 'copy' }),
  );
  if (padded.width !== crop.width + 2 * EDGE || padded.height !== crop.height + 2 * EDGE) {
    throw new Error('unexpected padded size');
  }
  return sharp(padded.data, { raw: { width: padded.width, height: padded.height, channels: 3 } });
}

async function affine(
  pipeline: Sharp,
  crop: Box,
  size: { width: number; height: number },
  interpolator: (typeof sharp.interpolators)[keyof typeof sharp.interpolators],
  edge: number,
): Promise<RgbPixels> {
  const scaleX = size.width / crop.width;
  const scaleY = size.height / crop.height;
  // libvips maps input (x, y) to output X = scale · (x + idx) + odx; TensorFlow's half-pixel centres give
  // idx = 0.5 and odx = −0.5, shifted by the copied edge when there is one.
  const out = await rgb(
    pipeline.affine([scaleX, 0, 0, scaleY], {
      idx: 0.5 - edge,
      idy: 0.5 - edge,
      odx: -0.5,
      ody: -0.5,
      interpolator,
    }),
  );
  if (out.width < size.width || out.height < size.height)
    throw new Error('affine output smaller than the target');
  return topLeft(out, size);
}

/** The top-left `size` of an image (libvips may round the affine output up by a pixel). */
function topLeft(image: RgbPixels, size: { width: number; height: number }): RgbPixels {
  if (image.width === size.width && image.height === size.height) return image;
  const data = Buffer.alloc(size.width * size.height * 3);
  for (let y = 0; y < size.height; y++) {
    image.data.copy(data, y * size.width * 3, y * image.width * 3, (y * image.width + size.width) * 3);
  }
  return { data, width: size.width, height: size.height };
}

function nearest(image: RgbPixels, size: { width: number; height: number }): RgbPixels {
  const f32 = Math.fround;
  const scaleX = f32(image.width / size.width);
  const scaleY = f32(image.height / size.height);
  const data = Buffer.alloc(size.width * size.height * 3);
  for (let y = 0; y < size.height; y++) {
    const sourceY = Math.min(Math.floor(f32(f32(y + 0.5) * scaleY)), image.height - 1);
    for (let x = 0; x < size.width; x++) {
      const sourceX = Math.min(Math.floor(f32(f32(x + 0.5) * scaleX)), image.width - 1);
      image.data.copy(
        data,
        (y * size.width + x) * 3,
        (sourceY * image.width + sourceX) * 3,
        (sourceY * image.width + sourceX) * 3 + 3,
      );
    }
  }
  return { data, width: size.width, height: size.height };
}
