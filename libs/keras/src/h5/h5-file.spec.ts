import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type * as H5Wasm from 'h5wasm';
import { H5File } from './h5-file';

const dir = mkdtempSync(join(tmpdir(), 'h5-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const LIMITS = { maxFileBytes: 1 << 20, maxAttributeChars: 1 << 16 };

// Half floats: 1, -2, 0.5, 65504, 2^-24 (smallest subnormal), 0.333251953125.
const HALF_BITS = [0x3c00, 0xc000, 0x3800, 0x7bff, 0x0001, 0x3555];
const HALF_VALUES = [1, -2, 0.5, 65504, 2 ** -24, 0.333251953125];

/**
 * h5wasm cannot write float16, but Keras stores some mixed_float16 variables that way. This writes a float32
 * dataset whose bytes are the half floats, in an HDF5 1.8 file (object headers without checksums), then
 * rewrites its datatype message to IEEE half precision and doubles its length: the same bytes, now a float16
 * dataset read by the real HDF5 library.
 */
async function writeFloat16File(path: string): Promise<void> {
  const h5 = await import('h5wasm/node');
  await h5.ready;
  const bytes = new Uint8Array(Uint16Array.from(HALF_BITS).buffer);
  const file = new h5.File(path, 'w', { libver: ['earliest', 'v108'] });
  file.create_group('layer');
  (file.get('layer') as H5Wasm.Group).create_dataset({
    name: 'kernel:0',
    data: new Float32Array(bytes.buffer),
    shape: [HALF_BITS.length / 2],
    dtype: '<f',
  });
  file.close();
  const raw = readFileSync(path);
  const float32Type = Buffer.from('11201f00' + '04000000' + '0000' + '2000' + '17080017' + '7f000000', 'hex');
  // class 1 v1, sign bit 15; size 2; bit offset 0, precision 16; exponent at 10, 5 bits; mantissa at 0, 10 bits; bias 15.
  const float16Type = Buffer.from('11200f00' + '02000000' + '0000' + '1000' + '0a05000a' + '0f000000', 'hex');
  const at = raw.indexOf(float32Type);
  expect(at).toBeGreaterThan(0);
  float16Type.copy(raw, at);
  // The dataspace message (dims, maxdims) sits just before the datatype message in this object header.
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(HALF_BITS.length / 2));
  const dims = raw.lastIndexOf(Buffer.concat([length, length]), at);
  expect(dims).toBeGreaterThan(0);
  raw.writeBigUInt64LE(BigInt(HALF_BITS.length), dims);
  raw.writeBigUInt64LE(BigInt(HALF_BITS.length), dims + 8);
  writeFileSync(path, raw);
}

describe('H5File', () => {
  it('reads a float16 dataset (mixed_float16 variables) as float32', async () => {
    const path = join(dir, 'half.h5');
    await writeFloat16File(path);
    const file = await H5File.open(path, LIMITS);
    try {
      expect(file.datasetShape('layer/kernel:0')).toEqual([HALF_BITS.length]);
      const weight = file.readWeight('layer/kernel:0');
      expect(weight.shape).toEqual([HALF_BITS.length]);
      expect(Array.from(weight.data)).toEqual(HALF_VALUES.map((value) => Math.fround(value)));
    } finally {
      file.close();
    }
  });

  it('says which weight is missing', async () => {
    const path = join(dir, 'half-2.h5');
    await writeFloat16File(path);
    const file = await H5File.open(path, LIMITS);
    try {
      expect(file.datasetShape('layer/bias:0')).toBeUndefined();
      expect(() => file.readWeight('layer/bias:0')).toThrow(/has no weight dataset "layer\/bias:0"/);
    } finally {
      file.close();
    }
  });
});
