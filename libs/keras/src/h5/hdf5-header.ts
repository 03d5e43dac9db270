const SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Bytes of the file start that `checkHdf5Header` needs (superblock up to its end-of-file address). */
export const HDF5_HEADER_BYTES = 64;

function readAddress(head: Buffer, offset: number, size: number): bigint | undefined {
  if (offset + size > head.length) return undefined;
  if (size === 8) return head.readBigUInt64LE(offset);
  if (size === 4) return BigInt(head.readUInt32LE(offset));
  return undefined;
}

/**
 * Checks the HDF5 superblock before the HDF5 library sees the file: the signature (Keras writes no user
 * block, so it is at offset 0) and the end-of-file address it records, which is past the real size when
 * a download was cut short. Returns why the file is unusable, or undefined.
 */
export function checkHdf5Header(head: Buffer, fileSize: number): string | undefined {
  if (head.length < SIGNATURE.length || !head.subarray(0, SIGNATURE.length).equals(SIGNATURE)) {
    return 'it does not start with the HDF5 signature, so it is not a Keras .h5 file';
  }
  const version = head[8];
  let offsetSize: number;
  let baseAt: number;
  if (version === 0 || version === 1) {
    offsetSize = head[13];
    baseAt = version === 0 ? 24 : 28;
  } else if (version === 2 || version === 3) {
    offsetSize = head[9];
    baseAt = 12;
  } else {
    return `its HDF5 superblock version ${version} is unknown`;
  }
  // v0/v1: base, free-space info, end of file; v2/v3: base, superblock extension, end of file.
  const base = readAddress(head, baseAt, offsetSize);
  const endOfFile = readAddress(head, baseAt + 2 * offsetSize, offsetSize);
  if (base === undefined || endOfFile === undefined) return 'its HDF5 superblock is unreadable';
  const needed = base + endOfFile;
  if (needed > BigInt(fileSize)) {
    return `it is truncated: its HDF5 header says ${needed} bytes but the file has ${fileSize}`;
  }
  return undefined;
}
