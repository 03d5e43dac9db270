import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { resizeBilinear } from './bilinear';
import { ImageDecoder } from './image-decoder';
import { preShrinkFactor } from './pre-shrink';
import { planResize, type ResizeTarget } from './resize-plan';

const decoder = new ImageDecoder({ maxPixels: 40_000_000 });
const TARGET: ResizeTarget = { width: 224, height: 224, method: 'bilinear', fit: 'fill' };

/** A smooth photo-like gradient (no detail finer than a few pixels), `width × height` RGB. */
function gradient(width: number, height: number): Buffer {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      data[i] = (255 * x) / width;
      data[i + 1] = (255 * y) / height;
      data[i + 2] = 128 + 100 * Math.sin((x + y) / 200);
    }
  return data;
}

const jpeg = (width: number, height: number) =>
  sharp(gradient(width, height), { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 95 })
    .toBuffer();

describe('fast fidelity (pre-shrink on load, then the exact resize)', () => {
  it('pre-shrinks only images at least 4 × the input on both axes, to about twice the input', () => {
    const factor = (width: number, height: number) => preShrinkFactor(planResize(width, height, TARGET));
    expect(factor(4032, 3024)).toBeCloseTo(3024 / 448, 6);
    expect(factor(1200, 1200)).toBeCloseTo(1200 / 448, 6);
    expect(factor(740, 740)).toBe(1);
    expect(factor(4032, 300)).toBe(1);
    expect(factor(204, 114)).toBe(1);
  });

  it('gives the same pixels as exact on an image too small to pre-shrink', async () => {
    const bytes = await jpeg(740, 600);
    const exact = await decoder.decode(bytes, { ...TARGET, fidelity: 'exact' });
    const fast = await decoder.decode(bytes, { ...TARGET, fidelity: 'fast' });
    expect(Buffer.from(fast.data).equals(Buffer.from(exact.data))).toBe(true);
  });

  it('keeps a large smooth photo within a few levels of exact, at the model size, with its source size', async () => {
    const bytes = await jpeg(2400, 1800);
    const exact = await decoder.decode(bytes, { ...TARGET, fidelity: 'exact' });
    const fast = await decoder.decode(bytes, { ...TARGET, fidelity: 'fast' });
    expect([fast.width, fast.height, fast.sourceWidth, fast.sourceHeight]).toEqual([224, 224, 2400, 1800]);
    let worst = 0;
    for (let i = 0; i < exact.data.length; i++)
      worst = Math.max(worst, Math.abs(exact.data[i] - fast.data[i]));
    expect(worst).toBeGreaterThan(0); // it did take the other path
    expect(worst).toBeLessThanOrEqual(6);
  });

  it('applies EXIF orientation before the pre-shrink, as exact does', async () => {
    const bytes = await sharp(gradient(2400, 1800), { raw: { width: 2400, height: 1800, channels: 3 } })
      .withMetadata({ orientation: 6 })
      .jpeg({ quality: 95 })
      .toBuffer();
    const fast = await decoder.decode(bytes, { ...TARGET, fidelity: 'fast' });
    expect([fast.sourceWidth, fast.sourceHeight]).toEqual([1800, 2400]);
    const exact = await decoder.decode(bytes, { ...TARGET, fidelity: 'exact' });
    let worst = 0;
    for (let i = 0; i < exact.data.length; i++)
      worst = Math.max(worst, Math.abs(exact.data[i] - fast.data[i]));
    expect(worst).toBeLessThanOrEqual(6);
  });
});

describe('resizeBilinear', () => {
  it('clamps at the edges and interpolates between pixels like tf.image.resize', () => {
    // 2 × 1 image, black then white, upscaled to 4 × 1: TensorFlow gives 0, 64, 191, 255 (x_in = (x+0.5)/2 − 0.5).
    const source = { data: new Uint8Array([0, 0, 0, 255, 255, 255]), width: 2, height: 1 };
    const out = resizeBilinear(source, { left: 0, top: 0, width: 2, height: 1 }, 4, 1);
    expect([...out.data].filter((_, i) => i % 3 === 0)).toEqual([0, 64, 191, 255]);
  });
});
