import { Inject, Injectable } from '@nestjs/common';
import sharp, { type KernelEnum, type Sharp } from 'sharp';
import { problem, ProblemError } from '@app/problem';
import { IMAGE_FETCH_OPTIONS, type ImageFetchOptions } from '../image-fetch.options';
import { decodeBmp } from './bmp-decoder';
import { sniffImageFormat, type ImageFormat } from './image-sniffer';

export type ResizeKernel = 'bilinear' | 'nearest' | 'bicubic' | 'lanczos3';
export type ResizeFit = 'fill' | 'cover' | 'contain';

export interface ResizeTarget {
  width: number;
  height: number;
  method: ResizeKernel;
  fit: ResizeFit;
}

export interface DecodedImage {
  /** Interleaved 8-bit sRGB, `width × height × 3`. */
  data: Uint8Array<ArrayBuffer>;
  width: number;
  height: number;
  format: ImageFormat;
  sourceWidth: number;
  sourceHeight: number;
}

const KERNELS: Record<ResizeKernel, keyof KernelEnum> = {
  bilinear: 'linear',
  nearest: 'nearest',
  bicubic: 'cubic',
  lanczos3: 'lanczos3',
};

/** Alpha is composited onto white, the background most food photos were shot against. */
const BACKGROUND = { r: 255, g: 255, b: 255 };

/**
 * Decodes JPEG, PNG, WebP, GIF (first frame) and BMP with libvips (sharp) and resizes to the model's input:
 * EXIF orientation applied, CMYK/greyscale/16-bit/palette converted to 8-bit sRGB, alpha flattened.
 * The pixel count is read from the header and refused before any full decode.
 */
@Injectable()
export class ImageDecoder {
  constructor(@Inject(IMAGE_FETCH_OPTIONS) private readonly options: Pick<ImageFetchOptions, 'maxPixels'>) {}

  async decode(bytes: Buffer, target: ResizeTarget): Promise<DecodedImage> {
    const format = sniffImageFormat(bytes);
    if (!format) {
      throw problem('unsupported_image', 'The data is not a JPEG, PNG, WebP, GIF or BMP image.');
    }
    const maxPixels = this.options.maxPixels;
    let pipeline: Sharp;
    let sourceWidth: number;
    let sourceHeight: number;
    if (format === 'bmp') {
      const raw = decodeBmp(bytes, maxPixels);
      pipeline = sharp(raw.data, { raw: { width: raw.width, height: raw.height, channels: raw.channels } });
      sourceWidth = raw.width;
      sourceHeight = raw.height;
    } else {
      const header = await this.readHeader(bytes, format);
      sourceWidth = header.width;
      sourceHeight = header.height;
      if (sourceWidth * sourceHeight > maxPixels) {
        throw problem(
          'image_too_many_pixels',
          `The image is ${sourceWidth}×${sourceHeight} pixels; at most ${maxPixels} pixels are decoded.`,
          { max_pixels: maxPixels },
        );
      }
      pipeline = sharp(bytes, { limitInputPixels: maxPixels, failOn: 'error', pages: 1 }).autoOrient();
    }
    try {
      const { data, info } = await pipeline
        .flatten({ background: BACKGROUND })
        .toColourspace('srgb')
        .resize(target.width, target.height, {
          fit: target.fit,
          kernel: KERNELS[target.method],
          position: 'centre',
          background: BACKGROUND,
          fastShrinkOnLoad: false,
        })
        .removeAlpha()
        .raw({ depth: 'uchar' })
        .toBuffer({ resolveWithObject: true });
      if (info.channels !== 3 || info.width !== target.width || info.height !== target.height) {
        throw new Error(`unexpected decode result ${info.width}×${info.height}×${info.channels}`);
      }
      const pixels = new Uint8Array(new ArrayBuffer(data.length));
      pixels.set(data);
      return { data: pixels, width: info.width, height: info.height, format, sourceWidth, sourceHeight };
    } catch (error) {
      if (error instanceof ProblemError) throw error;
      throw problem('unsupported_image', `The ${format.toUpperCase()} image is damaged or truncated and cannot be decoded.`);
    }
  }

  private async readHeader(bytes: Buffer, format: ImageFormat): Promise<{ width: number; height: number }> {
    try {
      const metadata = await sharp(bytes, { limitInputPixels: false, pages: 1 }).metadata();
      if (!metadata.width || !metadata.height) throw new Error('no dimensions');
      // For animated GIF/WebP, `height` is one page's height when pages: 1.
      return { width: metadata.width, height: metadata.pageHeight ?? metadata.height };
    } catch {
      throw problem('unsupported_image', `The ${format.toUpperCase()} image header is damaged and cannot be read.`);
    }
  }
}
