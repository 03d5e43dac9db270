import { describe, expect, it } from 'vitest';
import { testInputSpec } from '../../../../test/support/test-manifest';
import type { ModelInputSpec } from '../manifest/model-manifest';
import { toModelInput } from './to-model-input';

const image = { data: Uint8Array.from([0, 127.5, 255, 10, 20, 30]), width: 2, height: 1 };
const spec = (overrides: Partial<ModelInputSpec>): ModelInputSpec =>
  testInputSpec({ height: 1, width: 2, value_range: [0, 255], ...overrides });

describe('toModelInput', () => {
  it('passes raw pixels to uint8 models', () => {
    const input = toModelInput(image, spec({ dtype: 'uint8' }));
    expect(input.data).toBeInstanceOf(Uint8Array);
    expect([...input.data]).toEqual([0, 127, 255, 10, 20, 30]);
    expect(input.shape).toEqual([1, 1, 2, 3]);
  });

  it('maps 0..255 onto the value range', () => {
    expect([...toModelInput(image, spec({ value_range: [0, 1] })).data].map((v) => +v.toFixed(4))).toEqual([
      0, 0.498, 1, 0.0392, 0.0784, 0.1176,
    ]);
    expect(
      [...toModelInput(image, spec({ value_range: [-1, 1] })).data].slice(0, 3).map((v) => +v.toFixed(4)),
    ).toEqual([-1, -0.0039, 1]);
  });

  it('applies mean and std per channel after the range', () => {
    const input = toModelInput(
      image,
      spec({ value_range: [0, 1], mean: [0.5, 0.5, 0.5], std: [0.5, 0.25, 0.5] }),
    );
    expect(input.data[0]).toBeCloseTo(-1, 5);
    expect(input.data[2]).toBeCloseTo(1, 5);
    expect(input.data[4]).toBeCloseTo((20 / 255 - 0.5) / 0.25, 5);
  });

  it('swaps channels for BGR models', () => {
    expect([...toModelInput(image, spec({ dtype: 'uint8', channel_order: 'BGR' })).data]).toEqual([
      255, 127, 0, 30, 20, 10,
    ]);
    expect([...toModelInput(image, spec({ channel_order: 'BGR' })).data]).toEqual([255, 127, 0, 30, 20, 10]);
  });

  it('gives every byte of every channel the float32 of (byte · scale + low − mean) / std, in either order', () => {
    const all = new Uint8Array(256 * 3);
    for (let i = 0; i < all.length; i++) all[i] = (i * 7 + (i % 3) * 50) % 256;
    const pixels = { data: all, width: 256, height: 1 };
    const mean = [0.485, 0.456, 0.406];
    const std = [0.229, 0.224, 0.225];
    for (const channel_order of ['RGB', 'BGR'] as const) {
      const input = spec({ width: 256, value_range: [-1, 1], mean, std, channel_order });
      const data = toModelInput(pixels, input).data;
      for (let i = 0; i < all.length; i++) {
        const c = i % 3;
        const byte = all[i - c + (channel_order === 'BGR' ? 2 - c : c)];
        expect(data[i]).toBe(Math.fround((byte * (2 / 255) - 1 - mean[c]) / std[c]));
      }
    }
  });

  it('refuses pixels of the wrong size', () => {
    expect(() => toModelInput(image, spec({ width: 3 }))).toThrow(/Expected 3×1/);
  });
});
