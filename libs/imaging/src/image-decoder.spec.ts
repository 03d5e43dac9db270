import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { ProblemError } from '@app/problem';
import { foodPhotos } from '../../../test/support/shared-data';
import {
  BLUE,
  bmpBomb,
  encodeBmp,
  encodeBmp8,
  fromRaw,
  GREEN,
  gifClaiming,
  jpegClaiming,
  leftRedRightBlue,
  noise,
  pixelAt,
  pngClaiming,
  rawRgb,
  RED,
  type Rgb,
} from '../test/image-fixtures';
import { ImageDecoder } from './image-decoder';
import type { ResizeTarget } from './resize-plan';

const decoder = new ImageDecoder({ maxPixels: 40_000_000 });
const FILL_8: ResizeTarget = { width: 8, height: 8, method: 'bilinear', fit: 'fill' };

async function refusal(promise: Promise<unknown>): Promise<ProblemError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ProblemError) return error;
    throw error;
  }
  throw new Error('the image was not refused');
}

function expectColour(actual: Rgb, expected: Rgb, tolerance: number): void {
  actual.forEach((value, channel) =>
    expect(Math.abs(value - expected[channel])).toBeLessThanOrEqual(tolerance),
  );
}

/** Every pixel of a decoded image is (about) one colour. */
function expectUniform(data: Uint8Array, expected: Rgb, tolerance: number): void {
  for (let i = 0; i < data.length; i += 3)
    expectColour([data[i], data[i + 1], data[i + 2]], expected, tolerance);
}

const solid = (colour: Rgb, width = 16, height = 16) =>
  fromRaw(
    rawRgb(width, height, () => colour),
    width,
    height,
  );

describe('ImageDecoder formats', () => {
  it('decodes a baseline and a progressive JPEG', async () => {
    for (const progressive of [false, true]) {
      const jpeg = await solid([200, 40, 40]).jpeg({ quality: 95, progressive }).toBuffer();
      const image = await decoder.decode(jpeg, FILL_8);
      expect(image).toMatchObject({ format: 'jpeg', width: 8, height: 8, sourceWidth: 16, sourceHeight: 16 });
      expect(image.data).toHaveLength(8 * 8 * 3);
      expectUniform(image.data, [200, 40, 40], 6);
    }
  });

  it('converts a CMYK JPEG to RGB', async () => {
    const cmyk = await solid([220, 30, 30]).toColourspace('cmyk').jpeg({ quality: 95 }).toBuffer();
    expect((await sharp(cmyk).metadata()).space).toBe('cmyk');
    const image = await decoder.decode(cmyk, FILL_8);
    expect(image.data).toHaveLength(8 * 8 * 3);
    const [r, g, b] = pixelAt(image.data, 8, 4, 4);
    expect(r).toBeGreaterThan(170);
    expect(g).toBeLessThan(90);
    expect(b).toBeLessThan(90);
  });

  it('applies EXIF orientation 6 (rotate 90° clockwise) before resizing', async () => {
    // Stored 64×32, left red / right blue; displayed 32×64, top red / bottom blue.
    const stored = await fromRaw(rawRgb(64, 32, leftRedRightBlue(64)), 64, 32)
      .jpeg({ quality: 95 })
      .withMetadata({ orientation: 6 })
      .toBuffer();
    expect((await sharp(stored).metadata()).orientation).toBe(6);
    const image = await decoder.decode(stored, FILL_8);
    expect({ width: image.sourceWidth, height: image.sourceHeight }).toEqual({ width: 32, height: 64 });
    for (const x of [0, 7]) {
      expectColour(pixelAt(image.data, 8, x, 0), RED, 40);
      expectColour(pixelAt(image.data, 8, x, 7), BLUE, 40);
    }
  });

  it('expands a greyscale JPEG to three equal channels', async () => {
    const grey = await solid([90, 90, 90]).toColourspace('b-w').jpeg().toBuffer();
    expect((await sharp(grey).metadata()).channels).toBe(1);
    const image = await decoder.decode(grey, FILL_8);
    expect(image.data).toHaveLength(8 * 8 * 3);
    expectUniform(image.data, [90, 90, 90], 2);
  });

  it('reduces a 16-bit PNG to 8 bits per channel', async () => {
    const png16 = await solid([128, 64, 32]).toColourspace('rgb16').png().toBuffer();
    expect((await sharp(png16).metadata()).depth).toBe('ushort');
    const image = await decoder.decode(png16, FILL_8);
    expect(image.data).toHaveLength(8 * 8 * 3);
    expectUniform(image.data, [128, 64, 32], 1);
  });

  it('expands a palette PNG', async () => {
    const palette = await fromRaw(
      rawRgb(16, 16, (x) => (x < 8 ? RED : GREEN)),
      16,
      16,
    )
      .png({ palette: true })
      .toBuffer();
    expect((await sharp(palette).metadata()).isPalette).toBe(true);
    const image = await decoder.decode(palette, { ...FILL_8, method: 'nearest' });
    expect(pixelAt(image.data, 8, 0, 0)).toEqual(RED);
    expect(pixelAt(image.data, 8, 7, 7)).toEqual(GREEN);
  });

  it('flattens alpha on white', async () => {
    // Left half transparent, right half red at 50% opacity.
    const rgba = Buffer.alloc(16 * 16 * 4);
    for (let y = 0; y < 16; y++) {
      for (let x = 0; x < 16; x++) rgba.set(x < 8 ? [0, 0, 0, 0] : [255, 0, 0, 128], (y * 16 + x) * 4);
    }
    const png = await fromRaw(rgba, 16, 16, 4).png().toBuffer();
    const image = await decoder.decode(png, { ...FILL_8, method: 'nearest' });
    expect(pixelAt(image.data, 8, 0, 0)).toEqual([255, 255, 255]);
    expectColour(pixelAt(image.data, 8, 7, 7), [255, 127, 127], 1);
  });

  it('decodes WebP', async () => {
    const webp = await fromRaw(
      rawRgb(16, 16, (x) => (x < 8 ? RED : BLUE)),
      16,
      16,
    )
      .webp({ lossless: true })
      .toBuffer();
    const image = await decoder.decode(webp, { ...FILL_8, method: 'nearest' });
    expect(image.format).toBe('webp');
    expect(pixelAt(image.data, 8, 0, 0)).toEqual(RED);
    expect(pixelAt(image.data, 8, 7, 0)).toEqual(BLUE);
  });

  it('decodes only the first frame of an animated GIF', async () => {
    // Two 16×16 frames stacked: green, then red.
    const frames = rawRgb(16, 32, (_x, y) => (y < 16 ? GREEN : RED));
    const gif = await sharp(frames, { raw: { width: 16, height: 32, channels: 3, pageHeight: 16 } })
      .gif({ loop: 0, delay: [100, 100] })
      .toBuffer();
    expect((await sharp(gif).metadata()).pages).toBe(2);
    const image = await decoder.decode(gif, FILL_8);
    expect({ width: image.sourceWidth, height: image.sourceHeight }).toEqual({ width: 16, height: 16 });
    expectUniform(image.data, GREEN, 0);
  });

  it('decodes 24-bit bottom-up, 24-bit top-down and 32-bit BMPs', async () => {
    const rgb = rawRgb(6, 4, (x, y) => (y < 2 ? (x < 3 ? RED : GREEN) : BLUE));
    for (const bmp of [
      encodeBmp(rgb, 6, 4),
      encodeBmp(rgb, 6, 4, { topDown: true }),
      encodeBmp(rgb, 6, 4, { bitsPerPixel: 32 }),
    ]) {
      const image = await decoder.decode(bmp, { width: 6, height: 4, method: 'nearest', fit: 'fill' });
      expect(image.format).toBe('bmp');
      expect(Buffer.from(image.data).equals(rgb)).toBe(true);
    }
  });

  it('decodes an 8-bit palette BMP', async () => {
    const palette: Rgb[] = [RED, GREEN, BLUE, [10, 20, 30]];
    const indices = Uint8Array.from({ length: 5 * 3 }, (_, i) => i % 4);
    const image = await decoder.decode(encodeBmp8(indices, palette, 5, 3), {
      width: 5,
      height: 3,
      method: 'nearest',
      fit: 'fill',
    });
    for (let i = 0; i < indices.length; i++)
      expect(pixelAt(image.data, 5, i % 5, Math.floor(i / 5))).toEqual(palette[indices[i]]);
  });

  it('trusts the bytes, not the name: a PNG is a PNG whatever it was called', async () => {
    const png = await solid(GREEN).png().toBuffer();
    expect((await decoder.decode(png, FILL_8)).format).toBe('png');
  });
});

describe('ImageDecoder refusals', () => {
  let jpeg: Buffer;
  beforeAll(async () => {
    jpeg = await fromRaw(noise(256, 256), 256, 256).jpeg({ quality: 90 }).toBuffer();
  });

  it('refuses a truncated JPEG', async () => {
    for (const keep of [0.3, 0.6, 0.95]) {
      const problem = await refusal(decoder.decode(jpeg.subarray(0, Math.floor(jpeg.length * keep)), FILL_8));
      expect(problem).toMatchObject({ code: 'unsupported_image', status: 422 });
    }
  });

  it('refuses a truncated PNG', async () => {
    const png = await fromRaw(noise(64, 64), 64, 64).png().toBuffer();
    expect((await refusal(decoder.decode(png.subarray(0, png.length - 40), FILL_8))).code).toBe(
      'unsupported_image',
    );
  });

  it.each([
    ['text', Buffer.from('just some text, not an image at all')],
    ['HTML', Buffer.from('<!doctype html><html><body>hello</body></html>')],
    [
      'SVG',
      Buffer.from(
        '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>',
      ),
    ],
    [
      'SVG with an XML prolog',
      Buffer.from('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>'),
    ],
    ['a text file that starts with BM', Buffer.from('BMW owners club newsletter, issue 4')],
    ['TIFF', Buffer.from([0x49, 0x49, 0x2a, 0x00, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])],
    ['empty', Buffer.alloc(0)],
  ])('refuses %s as unsupported_image without decoding it', async (_name, bytes) => {
    const problem = await refusal(decoder.decode(bytes, FILL_8));
    expect(problem).toMatchObject({ code: 'unsupported_image', status: 422 });
  });

  it('refuses a BMP that is compressed or truncated', async () => {
    const bmp = encodeBmp(
      rawRgb(4, 4, () => RED),
      4,
      4,
    );
    expect((await refusal(decoder.decode(bmp.subarray(0, bmp.length - 10), FILL_8))).code).toBe(
      'unsupported_image',
    );
    const rle = Buffer.from(bmp);
    rle.writeUInt32LE(1, 30);
    expect((await refusal(decoder.decode(rle, FILL_8))).code).toBe('unsupported_image');
  });
});

describe('ImageDecoder pixel limit (decompression bombs)', () => {
  let png: Buffer;
  let jpeg: Buffer;
  let gif: Buffer;
  beforeAll(async () => {
    png = await solid(RED, 4, 4).png().toBuffer();
    jpeg = await solid(RED, 8, 8).jpeg().toBuffer();
    gif = await solid(RED, 4, 4).gif().toBuffer();
  });

  it.each([
    ['PNG', () => pngClaiming(png, 50_000, 50_000)],
    ['JPEG', () => jpegClaiming(jpeg, 50_000, 50_000)],
    ['GIF', () => gifClaiming(gif, 65_535, 65_535)],
    ['BMP', () => bmpBomb(50_000, 50_000)],
    ['top-down BMP', () => bmpBomb(50_000, -50_000)],
  ])('refuses a tiny %s that claims billions of pixels, from its header', async (_format, bomb) => {
    const bytes = bomb();
    expect(bytes.length).toBeLessThan(2_000);
    const problem = await refusal(decoder.decode(bytes, FILL_8));
    expect(problem).toMatchObject({
      code: 'image_too_many_pixels',
      status: 413,
      extensions: { max_pixels: 40_000_000 },
    });
  });

  it('applies MAX_IMAGE_PIXELS to real images too', async () => {
    const small = new ImageDecoder({ maxPixels: 100 });
    const problem = await refusal(small.decode(await solid(RED, 11, 10).png().toBuffer(), FILL_8));
    expect(problem.code).toBe('image_too_many_pixels');
    expect((await small.decode(await solid(RED, 10, 10).png().toBuffer(), FILL_8)).format).toBe('png');
  });
});

/**
 * TensorFlow's resize (tf.image.resize, half-pixel centres, no antialiasing), written from its definition,
 * in float32 like TensorFlow: the reference the served pixels must match.
 */
function tfResize(
  source: Buffer,
  width: number,
  height: number,
  outWidth: number,
  outHeight: number,
  method: 'bilinear' | 'nearest',
): Float32Array {
  const f32 = Math.fround;
  const out = new Float32Array(outWidth * outHeight * 3);
  const scaleX = f32(width / outWidth);
  const scaleY = f32(height / outHeight);
  const at = (x: number, y: number, c: number) => source[(y * width + x) * 3 + c];
  for (let y = 0; y < outHeight; y++) {
    for (let x = 0; x < outWidth; x++) {
      for (let c = 0; c < 3; c++) {
        if (method === 'nearest') {
          const sx = Math.min(Math.floor(f32(f32(x + 0.5) * scaleX)), width - 1);
          const sy = Math.min(Math.floor(f32(f32(y + 0.5) * scaleY)), height - 1);
          out[(y * outWidth + x) * 3 + c] = at(sx, sy, c);
          continue;
        }
        const inX = f32(f32((x + 0.5) * scaleX) - 0.5);
        const inY = f32(f32((y + 0.5) * scaleY) - 0.5);
        const x0 = Math.max(Math.floor(inX), 0);
        const x1 = Math.min(Math.ceil(inX), width - 1);
        const y0 = Math.max(Math.floor(inY), 0);
        const y1 = Math.min(Math.ceil(inY), height - 1);
        const dx = inX - Math.floor(inX);
        const dy = inY - Math.floor(inY);
        const top = at(x0, y0, c) + (at(x1, y0, c) - at(x0, y0, c)) * dx;
        const bottom = at(x0, y1, c) + (at(x1, y1, c) - at(x0, y1, c)) * dx;
        out[(y * outWidth + x) * 3 + c] = top + (bottom - top) * dy;
      }
    }
  }
  return out;
}

function maxDifference(actual: Uint8Array, expected: Float32Array): number {
  expect(actual.length).toBe(expected.length);
  let max = 0;
  for (let i = 0; i < actual.length; i++) max = Math.max(max, Math.abs(actual[i] - expected[i]));
  return max;
}

function crop(
  source: Buffer,
  width: number,
  box: { left: number; top: number; width: number; height: number },
): Buffer {
  const out = Buffer.alloc(box.width * box.height * 3);
  for (let y = 0; y < box.height; y++) {
    source.copy(
      out,
      y * box.width * 3,
      ((box.top + y) * width + box.left) * 3,
      ((box.top + y) * width + box.left + box.width) * 3,
    );
  }
  return out;
}

describe('ImageDecoder resizes as TensorFlow does', () => {
  const pattern = noise(300, 200, 7);
  let png: Buffer;
  beforeAll(async () => {
    png = await fromRaw(pattern, 300, 200).png().toBuffer();
  });

  it.each([
    [224, 224, 'downscale'],
    [97, 61, 'odd downscale'],
    [640, 480, 'upscale'],
    [500, 50, 'upscale one axis, downscale the other'],
  ])('bilinear fill to %i×%i (%s) matches tf.image.resize within rounding', async (width, height) => {
    const image = await decoder.decode(png, { width, height, method: 'bilinear', fit: 'fill' });
    expect(
      maxDifference(image.data, tfResize(pattern, 300, 200, width, height, 'bilinear')),
    ).toBeLessThanOrEqual(1);
  });

  it.each([
    [224, 224],
    [97, 61],
    [640, 480],
  ])('nearest fill to %i×%i matches tf.image.resize exactly', async (width, height) => {
    const image = await decoder.decode(png, { width, height, method: 'nearest', fit: 'fill' });
    expect(maxDifference(image.data, tfResize(pattern, 300, 200, width, height, 'nearest'))).toBe(0);
  });

  it('cover crops the centred box of Keras smart_resize, then resizes it', async () => {
    // 300×200 into 224×224: the centred 200×200 box starting at x = 50.
    const image = await decoder.decode(png, { width: 224, height: 224, method: 'bilinear', fit: 'cover' });
    const box = crop(pattern, 300, { left: 50, top: 0, width: 200, height: 200 });
    expect(maxDifference(image.data, tfResize(box, 200, 200, 224, 224, 'bilinear'))).toBeLessThanOrEqual(1);
  });

  it('contain keeps the aspect ratio and pads with black like tf.image.resize_with_pad', async () => {
    // 300×200 into 150×150: resized to 150×100, placed 25 rows down.
    const image = await decoder.decode(png, { width: 150, height: 150, method: 'bilinear', fit: 'contain' });
    const expected = tfResize(pattern, 300, 200, 150, 100, 'bilinear');
    const band = image.data.subarray(25 * 150 * 3, 125 * 150 * 3);
    expect(maxDifference(band, expected)).toBeLessThanOrEqual(1);
    expect(image.data.subarray(0, 25 * 150 * 3).every((value) => value === 0)).toBe(true);
    expect(image.data.subarray(125 * 150 * 3).every((value) => value === 0)).toBe(true);
  });

  it('matches the TensorFlow reference on the real food photos', async () => {
    const photos = foodPhotos();
    expect(photos.length).toBeGreaterThan(0);
    for (const photo of photos.slice(0, 4)) {
      const bytes = readFileSync(photo.path);
      const full = await sharp(bytes)
        .autoOrient()
        .toColourspace('srgb')
        .removeAlpha()
        .raw()
        .toBuffer({ resolveWithObject: true });
      const image = await decoder.decode(bytes, { width: 224, height: 224, method: 'bilinear', fit: 'fill' });
      expect(
        maxDifference(
          image.data,
          tfResize(full.data, full.info.width, full.info.height, 224, 224, 'bilinear'),
        ),
      ).toBeLessThanOrEqual(1);
    }
  });

  it('uses the manifest method: lanczos3 and bicubic give other pixels than bilinear', async () => {
    const target = { width: 97, height: 61, fit: 'fill' } as const;
    const bilinear = await decoder.decode(png, { ...target, method: 'bilinear' });
    for (const method of ['lanczos3', 'bicubic'] as const) {
      const other = await decoder.decode(png, { ...target, method });
      expect(other.data).toHaveLength(bilinear.data.length);
      expect(Buffer.from(other.data).equals(Buffer.from(bilinear.data))).toBe(false);
    }
  });
});
