import { describe, expect, it } from 'vitest';
import { decodeFloat16, float16ToFloat32 } from './float16';

describe('float16ToFloat32', () => {
  it('decodes normal, subnormal and special half floats', () => {
    expect(float16ToFloat32(0x3c00)).toBe(1);
    expect(float16ToFloat32(0xc000)).toBe(-2);
    expect(float16ToFloat32(0x3555)).toBeCloseTo(0.333251953125, 12);
    expect(float16ToFloat32(0x7bff)).toBe(65504);
    expect(float16ToFloat32(0x0001)).toBe(2 ** -24);
    expect(float16ToFloat32(0x0000)).toBe(0);
    expect(float16ToFloat32(0x7c00)).toBe(Number.POSITIVE_INFINITY);
    expect(float16ToFloat32(0xfc00)).toBe(Number.NEGATIVE_INFINITY);
    expect(float16ToFloat32(0x7e00)).toBeNaN();
  });

  it('decodes a little-endian byte array', () => {
    const bytes = new Uint8Array([0x00, 0x3c, 0x00, 0xc0, 0x00, 0x38]);
    expect(Array.from(decodeFloat16(bytes))).toEqual([1, -2, 0.5]);
  });
});
