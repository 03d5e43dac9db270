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

/**
 * `jpeg` with an EXIF block holding only `orientation`, as a camera writes it (big-endian TIFF for even values,
 * little-endian for odd). sharp's own `withMetadata({ orientation })` also embeds an ICC profile.
 */
function withOrientation(jpeg: Buffer, orientation: number): Buffer {
  const little = orientation % 2 === 1;
  const tiff = Buffer.alloc(26);
  tiff.write(little ? 'II' : 'MM', 0, 'latin1');
  const u16 = (value: number, at: number) =>
    little ? tiff.writeUInt16LE(value, at) : tiff.writeUInt16BE(value, at);
  const u32 = (value: number, at: number) =>
    little ? tiff.writeUInt32LE(value, at) : tiff.writeUInt32BE(value, at);
  u16(42, 2);
  u32(8, 4); // IFD0 right after the header
  u16(1, 8); // one entry: Orientation, SHORT, 1 value
  u16(0x0112, 10);
  u16(3, 12);
  u32(1, 14);
  u16(orientation, 18);
  u32(0, 22); // no next IFD
  const payload = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
  const segment = Buffer.concat([Buffer.from([0xff, 0xe1, 0, payload.length + 2]), payload]);
  return Buffer.concat([jpeg.subarray(0, 2), segment, jpeg.subarray(2)]);
}

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

    it('turns a photo by each EXIF orientation exactly as libvips does, in exact and fast, with its shown size', async () => {
      const pizza = photos.find((photo) => photo.name === 'pizza__1.jpg')!.bytes;
      // Not square, so a wrong turn changes the picture; large enough that fast decodes it at 1/2.
      const wide = await sharp(pizza).resize(1000, 500, { fit: 'fill' }).jpeg({ quality: 90 }).toBuffer();
      const small = { ...TARGET, width: 96, height: 96 };
      const turned: Uint8Array[] = [];
      const fast: Uint8Array[] = [];
      for (const orientation of [1, 2, 3, 4, 5, 6, 7, 8]) {
        const bytes = withOrientation(wide, orientation);
        expect(readJpegDisplay(bytes)).toEqual({ orientation, icc: 'none' });
        expect((await sharp(bytes).metadata()).orientation ?? 1).toBe(orientation);
        for (const target of [
          { ...TARGET, fidelity: 'exact' as const },
          { ...TARGET, width: 160, height: 96, fit: 'cover' as const, fidelity: 'exact' as const },
          { ...small, fidelity: 'exact' as const },
        ]) {
          const a = await turboDecoder.decode(bytes, target);
          const b = await libvips.decode(bytes, target);
          expect([a.sourceWidth, a.sourceHeight]).toEqual(orientation >= 5 ? [500, 1000] : [1000, 500]);
          expect(same(a.data, b.data), `orientation ${orientation} ${target.fit}`).toBe(true);
        }
        turned.push((await libvips.decode(bytes, { ...small, fidelity: 'exact' })).data);
        fast.push((await turboDecoder.decode(bytes, { ...small, fidelity: 'fast' })).data);
      }
      // fast decoded at 1/2 differs from exact a little; of the 8 turns, it is nearest the right one.
      const distance = (a: Uint8Array, b: Uint8Array) =>
        a.reduce((sum, value, i) => sum + Math.abs(value - b[i]), 0);
      fast.forEach((image, i) => {
        const distances = turned.map((reference) => distance(image, reference));
        expect(distances.indexOf(Math.min(...distances)), `orientation ${i + 1} fast`).toBe(i);
      });
    });

    it('leaves to libvips what it must do: another ICC profile, CMYK, a truncated file', async () => {
      const pizza = photos.find((photo) => photo.name === 'pizza__1.jpg')!.bytes;
      const wide = await sharp(pizza).resize(600, 300, { fit: 'fill' }).jpeg({ quality: 90 }).toBuffer();
      const cases = {
        displayP3: await sharp(wide).withIccProfile('p3').jpeg().toBuffer(),
        cmyk: await sharp(wide).toColourspace('cmyk').jpeg().toBuffer(),
      };
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
