import sharp, { type Sharp } from 'sharp';
import { problem, ProblemError } from '@app/problem';
import { decodeBmp } from './bmp-decoder';
import { sniffImageFormat, type ImageFormat } from './image-sniffer';
import { checkPixelCount } from './pixel-limit';
import { resizeBilinear, transposes } from './bilinear';
import { preShrinkFactor } from './pre-shrink';
import { readJpegDisplay } from './jpeg-segments';
import { resample, type RgbPixels } from './resample';
import { planResize, type ResizePlan, type ResizeTarget } from './resize-plan';
import { loadTurboJpeg, type TurboJpeg } from './turbojpeg';

export type { ResizeFidelity, ResizeFit, ResizeKernel, ResizeTarget } from './resize-plan';

export interface DecodedImage {
  /** Interleaved 8-bit sRGB, `width × height × 3`. */
  data: Uint8Array<ArrayBuffer>;
  width: number;
  height: number;
  format: ImageFormat;
  /** The image as displayed (EXIF orientation applied), before resizing. */
  sourceWidth: number;
  sourceHeight: number;
}

/** A decodable image whose displayed size is known and already checked against the pixel limit. */
interface CheckedSource {
  width: number;
  height: number;
  /** A fresh libvips pipeline that yields the displayed image (orientation applied, alpha flattened, sRGB). */
  open(): Sharp;
}

/** Alpha is composited onto white, the background most food photos were shot against. */
const BACKGROUND = { r: 255, g: 255, b: 255 };
/** EXIF orientations 5–8 turn the image by 90°, swapping its width and height. */
const TRANSPOSING_ORIENTATIONS = new Set([5, 6, 7, 8]);

// libvips' operation cache keeps decoded images keyed by buffer address; the service never decodes the same
// bytes twice on purpose, and must never answer from another request's pixels or hold their memory.
sharp.cache(false);

/** When decoding ended and resizing began (performance.now()), for a caller that times the two apart. */
export interface DecodeTiming {
  pixelsAt?: number;
}

/**
 * Decodes JPEG (baseline, progressive, CMYK, greyscale; EXIF orientation applied), PNG (8/16-bit, palette,
 * greyscale, alpha), WebP, GIF (first frame) with libvips, and uncompressed BMP with a bounded decoder, into
 * 8-bit sRGB resized exactly as the model's manifest says. The format is sniffed from the bytes, and the pixel
 * count is read from the header and refused before anything is decoded (decompression bombs).
 */
export class ImageDecoder {
  private readonly turbo?: TurboJpeg;

  constructor(
    private readonly options: {
      maxPixels: number;
      /** `auto` (the default): libjpeg-turbo for JPEG when the system has it; `libvips`: libvips for every format. */
      jpegDecoder?: 'auto' | 'libvips';
    },
  ) {
    if (options.jpegDecoder !== 'libvips') this.turbo = loadTurboJpeg().turbo;
  }

  /** What decodes JPEG photos here. */
  get jpegDecoder(): 'libjpeg-turbo' | 'libvips' {
    return this.turbo ? 'libjpeg-turbo' : 'libvips';
  }

  /** `timing.pixelsAt` is set to performance.now() once the pixels are decoded, before they are resized. */
  async decode(bytes: Buffer, target: ResizeTarget, timing?: DecodeTiming): Promise<DecodedImage> {
    const format = sniffImageFormat(bytes);
    if (!format) {
      throw problem(
        'unsupported_image',
        'The data is not a JPEG, PNG, WebP, GIF or BMP image (SVG, HEIC, TIFF and others are not accepted); send a photo in one of those formats.',
      );
    }
    if (format === 'jpeg' && target.method === 'bilinear') {
      const decoded = this.decodeWithTurboJpeg(bytes, target, timing);
      if (decoded) return decoded;
    }
    const source = format === 'bmp' ? this.bmpSource(bytes) : await this.libvipsSource(bytes, format);
    try {
      const { resized, plan } = await this.resize(source, target, timing);
      const data = onCanvas(resized.data, plan, target);
      return {
        data,
        width: target.width,
        height: target.height,
        format,
        sourceWidth: source.width,
        sourceHeight: source.height,
      };
    } catch (error) {
      if (error instanceof ProblemError) throw error;
      throw problem(
        'unsupported_image',
        `The ${format.toUpperCase()} image is damaged or truncated and cannot be decoded; send the complete file.`,
      );
    }
  }

  private async resize(
    source: CheckedSource,
    target: ResizeTarget,
    timing: DecodeTiming | undefined,
  ): Promise<{ resized: RgbPixels | { data: Uint8Array; width: number; height: number }; plan: ResizePlan }> {
    const sourcePlan = planResize(source.width, source.height, target);
    if (target.method !== 'bilinear') {
      // libvips decodes and resamples in one pipeline: the resize has no time of its own here.
      const resized = await resample(source.open(), sourcePlan.crop, sourcePlan.placed, target.method);
      if (timing) timing.pixelsAt = performance.now();
      return { resized, plan: sourcePlan };
    }
    // Bilinear without antialiasing reads 4 pixels per output pixel: decode once (one libvips pipeline, no
    // extract, no affine, which cost more than the decode), then sample in JS.
    const shrink = target.fidelity === 'fast' ? preShrinkFactor(sourcePlan) : 1;
    let pipeline = source.open();
    let plan = sourcePlan;
    if (shrink > 1) {
      const width = Math.max(1, Math.round(source.width / shrink));
      const height = Math.max(1, Math.round(source.height / shrink));
      pipeline = pipeline.resize(width, height, { fit: 'fill', kernel: 'linear', fastShrinkOnLoad: true });
      plan = planResize(width, height, target);
    }
    const { data, info } = await pipeline
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`expected 3 channels, got ${info.channels}`);
    if (timing) timing.pixelsAt = performance.now();
    const decoded = { data, width: info.width, height: info.height };
    return { resized: resizeBilinear(decoded, plan.crop, plan.placed.width, plan.placed.height), plan };
  }

  /**
   * libjpeg-turbo's SIMD decoder (2–3× faster than libvips' here, the same pixels), then the exact resize, which
   * reads a rotated photo in place; in `fast` fidelity a large photo is decoded at 1/2, 1/4 or 1/8 in the DCT,
   * still at least twice the input. Undefined for what libvips must do (a photo with a colour profile other than
   * sRGB, CMYK) or decide (a damaged file).
   */
  private decodeWithTurboJpeg(
    bytes: Buffer,
    target: ResizeTarget,
    timing: DecodeTiming | undefined,
  ): DecodedImage | undefined {
    if (!this.turbo) return undefined;
    const display = readJpegDisplay(bytes);
    if (!display || display.icc === 'other') return undefined;
    const header = this.turbo.header(bytes);
    if (!header || header.cmyk) return undefined;
    checkPixelCount(header.width, header.height, this.options.maxPixels);
    const { orientation } = display;
    const shown = (width: number, height: number) =>
      transposes(orientation) ? { width: height, height: width } : { width, height };
    const source = shown(header.width, header.height);
    const sourcePlan = planResize(source.width, source.height, target);
    const shrink = target.fidelity === 'fast' ? dctShrink(preShrinkFactor(sourcePlan)) : 1;
    const pixels = this.turbo.decode(bytes, header, shrink);
    if (!pixels) return undefined;
    if (timing) timing.pixelsAt = performance.now();
    const decoded = shown(pixels.width, pixels.height);
    const plan = shrink > 1 ? planResize(decoded.width, decoded.height, target) : sourcePlan;
    const resized = resizeBilinear(pixels, plan.crop, plan.placed.width, plan.placed.height, orientation);
    return {
      data: onCanvas(resized.data, plan, target),
      width: target.width,
      height: target.height,
      format: 'jpeg',
      sourceWidth: source.width,
      sourceHeight: source.height,
    };
  }

  private bmpSource(bytes: Buffer): CheckedSource {
    const raw = decodeBmp(bytes, this.options.maxPixels);
    return {
      width: raw.width,
      height: raw.height,
      open: () => sharp(raw.data, { raw: { width: raw.width, height: raw.height, channels: raw.channels } }),
    };
  }

  private async libvipsSource(bytes: Buffer, format: ImageFormat): Promise<CheckedSource> {
    const header = await this.readHeader(bytes, format);
    checkPixelCount(header.width, header.height, this.options.maxPixels);
    const transposed = TRANSPOSING_ORIENTATIONS.has(header.orientation ?? 1);
    return {
      width: transposed ? header.height : header.width,
      height: transposed ? header.width : header.height,
      open: () =>
        sharp(bytes, { limitInputPixels: this.options.maxPixels, failOn: 'error', pages: 1 })
          .autoOrient()
          .flatten({ background: BACKGROUND })
          .toColourspace('srgb'),
    };
  }

  /** The header only: nothing is decoded, so a 50 000 × 50 000 claim costs nothing to refuse. */
  private async readHeader(bytes: Buffer, format: ImageFormat) {
    try {
      const metadata = await sharp(bytes, { limitInputPixels: false, pages: 1 }).metadata();
      if (!metadata.width || !metadata.height) throw new Error('no dimensions');
      // For animated GIF/WebP with pages: 1, `pageHeight` is the height of the one frame that is decoded.
      return {
        width: metadata.width,
        height: metadata.pageHeight ?? metadata.height,
        orientation: metadata.orientation,
      };
    } catch {
      throw problem(
        'unsupported_image',
        `The ${format.toUpperCase()} image header is damaged and cannot be read; send the complete file.`,
      );
    }
  }
}

/** The resized pixels on the `target` canvas: as they are when they fill it, else placed on a new one. */
function onCanvas(pixels: Uint8Array, plan: ResizePlan, target: ResizeTarget): Uint8Array<ArrayBuffer> {
  const { placed } = plan;
  const fills = placed.width === target.width && placed.height === target.height;
  // Only pixels that own their whole buffer: a view into a larger one would hand the caller bytes it does not see.
  const ownsBuffer = pixels.buffer instanceof ArrayBuffer && pixels.byteLength === pixels.buffer.byteLength;
  if (fills && ownsBuffer) return pixels as Uint8Array<ArrayBuffer>;
  const data = new Uint8Array(new ArrayBuffer(target.width * target.height * 3));
  // `contain` leaves a black (zero) border around the image, as tf.image.resize_with_pad does.
  for (let y = 0; y < placed.height; y++) {
    const row = pixels.subarray(y * placed.width * 3, (y + 1) * placed.width * 3);
    data.set(row, ((placed.top + y) * target.width + placed.left) * 3);
  }
  return data;
}

/** The largest DCT scaling (1/8, 1/4, 1/2) that shrinks no more than `factor`, or 1. */
function dctShrink(factor: number): 1 | 2 | 4 | 8 {
  if (factor >= 8) return 8;
  if (factor >= 4) return 4;
  return factor >= 2 ? 2 : 1;
}
