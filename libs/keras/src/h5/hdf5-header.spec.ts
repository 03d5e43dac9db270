import { describe, expect, it } from 'vitest';
import { checkHdf5Header } from './hdf5-header';

function superblockV0(endOfFile: number): Buffer {
  const head = Buffer.alloc(64);
  Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]).copy(head, 0);
  head[13] = 8; // size of offsets
  head[14] = 8; // size of lengths
  head.writeBigUInt64LE(0n, 24); // base address
  head.writeBigUInt64LE(0xffffffffffffffffn, 32); // free-space info (undefined)
  head.writeBigUInt64LE(BigInt(endOfFile), 40);
  return head;
}

function superblockV2(endOfFile: number): Buffer {
  const head = Buffer.alloc(64);
  Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]).copy(head, 0);
  head[8] = 2;
  head[9] = 8;
  head[10] = 8;
  head.writeBigUInt64LE(0n, 12);
  head.writeBigUInt64LE(0xffffffffffffffffn, 20);
  head.writeBigUInt64LE(BigInt(endOfFile), 28);
  return head;
}

describe('checkHdf5Header', () => {
  it('accepts a whole file (superblock v0, as h5py writes by default, and v2)', () => {
    expect(checkHdf5Header(superblockV0(5000), 5000)).toBeUndefined();
    expect(checkHdf5Header(superblockV2(5000), 6000)).toBeUndefined();
  });

  it('refuses a file shorter than its header says (a cut download)', () => {
    expect(checkHdf5Header(superblockV0(5000), 4999)).toBe(
      'it is truncated: its HDF5 header says 5000 bytes but the file has 4999',
    );
    expect(checkHdf5Header(superblockV2(5000), 100)).toMatch(/it is truncated/);
  });

  it('refuses what is not HDF5', () => {
    expect(checkHdf5Header(Buffer.from('{"format": "layers-model"}'), 26)).toMatch(
      /does not start with the HDF5 signature/,
    );
    const head = superblockV0(10);
    head[8] = 9;
    expect(checkHdf5Header(head, 10)).toMatch(/superblock version 9 is unknown/);
  });
});
