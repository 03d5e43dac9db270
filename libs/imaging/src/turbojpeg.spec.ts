import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { foodPhotos } from '../../../test/support/shared-data';
import { ImageDecoder } from './image-decoder';
import { readJpegDisplay } from './jpeg-segments';
import { preShrinkFactor } from './pre-shrink';
import { planResize, type ResizeTarget } from './resize-plan';
import { loadTurboJpeg } from './turbojpeg';

const TARGET: ResizeTarget = { width: 224, height: 224, method: 'bilinear', fit: 'fill' };
const { turbo, reason } = loadTurboJpeg();
// CI installs libturbojpeg0 (.ci/run), as the Docker image does: there its absence is a failure, not a skip.
const required = process.env.CI === 'true';
const turboDecoder = new ImageDecoder({ maxPixels: 40_000_000 });
const libvips = new ImageDecoder({ maxPixels: 40_000_000, jpegDecoder: 'libvips' });
const photos = foodPhotos().map((photo) => ({ name: photo.file, bytes: readFileSync(photo.path) }));

function same(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(
    Buffer.from(b.buffer, b.byteOffset, b.byteLength),
  );
}

describe('libjpeg-turbo JPEG decoding', () => {
  it('is available where the service is built to run', () => {
    if (required) expect(reason).toBeUndefined();
    expect(turboDecoder.jpegDecoder).toBe(turbo ? 'libjpeg-turbo' : 'libvips');
    expect(libvips.jpegDecoder).toBe('libvips');
  });

  describe.runIf(turbo !== undefined || required)('with the library', () => {
    it('gives libvips’ exact pixels on every shared photo, in exact and (below the pre-shrink size) fast', async () => {
      for (const photo of photos) {
        for (const fidelity of ['exact', 'fast'] as const) {
          const target = { ...TARGET, fidelity };
          const [a, b] = [
            await turboDecoder.decode(photo.bytes, target),
            await libvips.decode(photo.bytes, target),
          ];
          expect([a.sourceWidth, a.sourceHeight, a.format]).toEqual([
            b.sourceWidth,
            b.sourceHeight,
            b.format,
          ]);
          const { width, height } = await sharp(photo.bytes).metadata();
          if (fidelity === 'exact' || preShrinkFactor(planResize(width, height, TARGET)) === 1) {
            expect(same(a.data, b.data), `${photo.name} ${fidelity}`).toBe(true);
          }
        }
      }
    });

    it('decodes a JPEG that embeds the IEC sRGB profile itself (spaghetti_carbonara__1.jpg), as libvips does', async () => {
      const bytes = photos.find((photo) => photo.name === 'spaghetti_carbonara__1.jpg')!.bytes;
      expect(readJpegDisplay(bytes)).toEqual({ orientation: 1, icc: 'srgb' });
      const header = turbo!.header(bytes)!;
      const pixels = turbo!.decode(bytes, header, 1)!;
      const reference = await sharp(bytes).toColourspace('srgb').removeAlpha().raw().toBuffer();
      expect(same(pixels.data, reference)).toBe(true);
    });

    it('leaves to libvips what it must do: EXIF rotation, another ICC profile, CMYK, a truncated file', async () => {
      const pizza = photos.find((photo) => photo.name === 'pizza__1.jpg')!.bytes;
      const wide = await sharp(pizza).resize(600, 300, { fit: 'fill' }).jpeg({ quality: 90 }).toBuffer();
      const cases = {
        rotated: await sharp(wide).withMetadata({ orientation: 6 }).jpeg().toBuffer(),
        displayP3: await sharp(wide).withIccProfile('p3').jpeg().toBuffer(),
        cmyk: await sharp(wide).toColourspace('cmyk').jpeg().toBuffer(),
      };
      expect(readJpegDisplay(cases.rotated)?.orientation).toBe(6);
      expect(readJpegDisplay(cases.displayP3)?.icc).toBe('other');
      for (const [name, bytes] of Object.entries(cases)) {
        const a = await turboDecoder.decode(bytes, TARGET);
        const b = await libvips.decode(bytes, TARGET);
        expect(same(a.data, b.data), name).toBe(true);
      }
      // What libvips makes of it (an answer or a clear refusal) is what the client gets.
      const truncated = wide.subarray(0, wide.length >> 1);
      const outcome = (decoder: ImageDecoder) =>
        decoder.decode(truncated, TARGET).then(
          (image) => Buffer.from(image.data).toString('base64'),
          (error: Error) => error.message,
        );
      expect(await outcome(turboDecoder)).toBe(await outcome(libvips));
    });

    it('decodes a 12 MP photo at 1/4 in the DCT in fast, keeping it near exact', async () => {
      const pizza = photos.find((photo) => photo.name === 'pizza__1.jpg')!.bytes;
      const phone = await sharp(pizza).resize(4032, 3024, { fit: 'fill' }).jpeg({ quality: 92 }).toBuffer();
      expect(preShrinkFactor(planResize(4032, 3024, TARGET))).toBeGreaterThanOrEqual(4);
      const exact = await turboDecoder.decode(phone, { ...TARGET, fidelity: 'exact' });
      const fast = await turboDecoder.decode(phone, { ...TARGET, fidelity: 'fast' });
      expect([fast.sourceWidth, fast.sourceHeight]).toEqual([4032, 3024]);
      let sum = 0;
      for (let i = 0; i < exact.data.length; i++) sum += Math.abs(exact.data[i] - fast.data[i]);
      const mean = sum / exact.data.length;
      expect(mean).toBeGreaterThan(0); // the other path
      expect(mean).toBeLessThan(4);
    });
  });
});

describe('readJpegDisplay', () => {
  it('reads the orientation sharp writes, and treats no EXIF as 1', async () => {
    const base = await sharp({ create: { width: 8, height: 4, channels: 3, background: '#808080' } })
      .jpeg()
      .toBuffer();
    expect(readJpegDisplay(base)).toEqual({ orientation: 1, icc: 'none' });
    for (const orientation of [1, 3, 6, 8]) {
      const bytes = await sharp(base).withMetadata({ orientation }).jpeg().toBuffer();
      expect(readJpegDisplay(bytes)?.orientation).toBe(orientation);
    }
  });

  it('gives up (so libvips decides) on segments it cannot follow', () => {
    expect(readJpegDisplay(Buffer.from([0xff, 0xd8, 0xff, 0xe1, 0xff, 0xff]))).toBeUndefined();
    expect(readJpegDisplay(Buffer.from([0x89, 0x50, 0x4e, 0x47]))).toBeUndefined();
    // An EXIF block too short for its TIFF header.
    const exif = Buffer.from('Exif\0\0MM', 'latin1');
    const segment = Buffer.concat([Buffer.from([0xff, 0xe1, 0, exif.length + 2]), exif]);
    expect(
      readJpegDisplay(Buffer.concat([Buffer.from([0xff, 0xd8]), segment, Buffer.from([0xff, 0xda])])),
    ).toBe(undefined);
  });
});
