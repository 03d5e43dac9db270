import sharp from 'sharp';

/**
 * Image fixtures built in the tests (no committed blobs): pixel patterns, sharp-encoded files, a BMP encoder
 * (libvips writes no BMP), and "bombs" — small valid files whose headers are patched to claim huge sizes.
 */

export type Rgb = readonly [number, number, number];

export const RED: Rgb = [255, 0, 0];
export const GREEN: Rgb = [0, 255, 0];
export const BLUE: Rgb = [0, 0, 255];

/** Raw RGB where each pixel's colour is `colourAt(x, y)`. */
export function rawRgb(width: number, height: number, colourAt: (x: number, y: number) => Rgb): Buffer {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data.set(colourAt(x, y), (y * width + x) * 3);
  }
  return data;
}

/** Left half red, right half blue: turning it by 90° makes it top red, bottom blue. */
export const leftRedRightBlue =
  (width: number) =>
  (x: number): Rgb =>
    x < width / 2 ? RED : BLUE;

/** A deterministic high-frequency pattern: any difference between resize methods shows up in it. */
export function noise(width: number, height: number, seed = 1): Buffer {
  const data = Buffer.alloc(width * height * 3);
  let state = seed;
  for (let i = 0; i < data.length; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    data[i] = state >>> 24;
  }
  return data;
}

export function fromRaw(data: Buffer, width: number, height: number, channels: 1 | 2 | 3 | 4 = 3) {
  return sharp(data, { raw: { width, height, channels } });
}

/** The RGB of pixel (x, y) in interleaved RGB data. */
export function pixelAt(data: Uint8Array, width: number, x: number, y: number): Rgb {
  const i = (y * width + x) * 3;
  return [data[i], data[i + 1], data[i + 2]];
}

// --- BMP -----------------------------------------------------------------------------------------------

function bmpHeaders(
  width: number,
  height: number,
  bitsPerPixel: number,
  paletteSize: number,
  pixelBytes: number,
  topDown: boolean,
): Buffer {
  const pixelOffset = 14 + 40 + paletteSize * 4;
  const header = Buffer.alloc(pixelOffset);
  header.write('BM', 0, 'latin1');
  header.writeUInt32LE(pixelOffset + pixelBytes, 2);
  header.writeUInt32LE(pixelOffset, 10);
  header.writeUInt32LE(40, 14);
  header.writeInt32LE(width, 18);
  header.writeInt32LE(topDown ? -height : height, 22);
  header.writeUInt16LE(1, 26);
  header.writeUInt16LE(bitsPerPixel, 28);
  header.writeUInt32LE(0, 30); // BI_RGB
  header.writeUInt32LE(pixelBytes, 34);
  header.writeUInt32LE(paletteSize, 46);
  return header;
}

/** A 24-bit (or 32-bit BGRX) uncompressed Windows bitmap, bottom-up unless `topDown`. */
export function encodeBmp(
  rgb: Buffer,
  width: number,
  height: number,
  options: { topDown?: boolean; bitsPerPixel?: 24 | 32 } = {},
): Buffer {
  const bitsPerPixel = options.bitsPerPixel ?? 24;
  const bytesPerPixel = bitsPerPixel / 8;
  const rowSize = Math.ceil((width * bitsPerPixel) / 32) * 4;
  const pixels = Buffer.alloc(rowSize * height);
  for (let y = 0; y < height; y++) {
    const row = (options.topDown ? y : height - 1 - y) * rowSize;
    for (let x = 0; x < width; x++) {
      const [r, g, b] = pixelAt(rgb, width, x, y);
      pixels.set([b, g, r], row + x * bytesPerPixel);
    }
  }
  return Buffer.concat([
    bmpHeaders(width, height, bitsPerPixel, 0, pixels.length, !!options.topDown),
    pixels,
  ]);
}

/** An 8-bit palette bitmap: `indices` (one byte a pixel) into `palette`. */
export function encodeBmp8(
  indices: Uint8Array,
  palette: readonly Rgb[],
  width: number,
  height: number,
): Buffer {
  const rowSize = Math.ceil(width / 4) * 4;
  const table = Buffer.alloc(palette.length * 4);
  palette.forEach(([r, g, b], i) => table.set([b, g, r, 0], i * 4));
  const pixels = Buffer.alloc(rowSize * height);
  for (let y = 0; y < height; y++) {
    pixels.set(indices.subarray(y * width, (y + 1) * width), (height - 1 - y) * rowSize);
  }
  const headers = bmpHeaders(width, height, 8, palette.length, pixels.length, false);
  table.copy(headers, 54);
  return Buffer.concat([headers, pixels]);
}

/** A BMP whose header claims `width × height` pixels but carries almost none. */
export function bmpBomb(width: number, height: number): Buffer {
  return Buffer.concat([bmpHeaders(width, height, 24, 0, 16, false), Buffer.alloc(16)]);
}

// --- header patching (decompression bombs) ---------------------------------------------------------------

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = CRC_TABLE[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** A real PNG whose IHDR is rewritten to claim `width × height` (CRC fixed, so decoders trust the header). */
export function pngClaiming(png: Buffer, width: number, height: number): Buffer {
  const patched = Buffer.from(png);
  if (patched.toString('latin1', 12, 16) !== 'IHDR') throw new Error('not a PNG with IHDR first');
  patched.writeUInt32BE(width, 16);
  patched.writeUInt32BE(height, 20);
  patched.writeUInt32BE(crc32(patched.subarray(12, 29)), 29);
  return patched;
}

/** A real JPEG whose frame header (SOF0/SOF2) is rewritten to claim `width × height`. */
export function jpegClaiming(jpeg: Buffer, width: number, height: number): Buffer {
  const patched = Buffer.from(jpeg);
  let offset = 2;
  while (offset + 4 < patched.length) {
    if (patched[offset] !== 0xff) throw new Error('lost in the JPEG markers');
    const marker = patched[offset + 1];
    const length = patched.readUInt16BE(offset + 2);
    if (marker === 0xc0 || marker === 0xc2) {
      patched.writeUInt16BE(height, offset + 5);
      patched.writeUInt16BE(width, offset + 7);
      return patched;
    }
    offset += 2 + length;
  }
  throw new Error('no SOF marker');
}

/**
 * A real GIF whose logical screen and first frame are rewritten to `width × height` (at most 65535 each).
 * libvips sizes a GIF by its frames, so the frame descriptor must claim the size too.
 */
export function gifClaiming(gif: Buffer, width: number, height: number): Buffer {
  const patched = Buffer.from(gif);
  patched.writeUInt16LE(width, 6);
  patched.writeUInt16LE(height, 8);
  const flags = patched[10];
  let offset = 13 + (flags & 0x80 ? 3 * (1 << ((flags & 7) + 1)) : 0);
  while (patched[offset] === 0x21) {
    offset += 2;
    while (patched[offset] !== 0) offset += patched[offset] + 1;
    offset++;
  }
  if (patched[offset] !== 0x2c) throw new Error('no image descriptor');
  patched.writeUInt16LE(width, offset + 5);
  patched.writeUInt16LE(height, offset + 7);
  return patched;
}
