import { problem } from '@app/problem';
import { checkPixelCount } from './pixel-limit';

export interface RawPixels {
  data: Buffer;
  width: number;
  height: number;
  channels: 3 | 4;
}

const BI_RGB = 0;
const BI_BITFIELDS = 3;

/**
 * A bounded decoder for uncompressed Windows bitmaps (libvips in sharp reads no BMP): 8-bit palette, 24-bit and
 * 32-bit pixels, bottom-up or top-down. Dimensions are checked against `maxPixels` before anything is allocated
 * (a 1 KB BMP can claim gigabytes of pixels), and every row read is bounds-checked against the file.
 */
export function decodeBmp(bytes: Buffer, maxPixels: number): RawPixels {
  const unsupported = (why: string) =>
    problem('unsupported_image', `The BMP image cannot be decoded: ${why}; send it as JPEG or PNG.`);
  if (bytes.length < 54) throw unsupported('the file is truncated');
  const pixelOffset = bytes.readUInt32LE(10);
  const headerSize = bytes.readUInt32LE(14);
  if (headerSize < 40) throw unsupported('OS/2 bitmaps are not supported');
  const width = bytes.readInt32LE(18);
  const rawHeight = bytes.readInt32LE(22);
  const bitsPerPixel = bytes.readUInt16LE(28);
  const compression = bytes.readUInt32LE(30);
  const height = Math.abs(rawHeight);
  if (width <= 0 || height === 0) throw unsupported('its dimensions are invalid');
  checkPixelCount(width, height, maxPixels);
  if (![8, 24, 32].includes(bitsPerPixel)) throw unsupported(`${bitsPerPixel}-bit pixels are not supported`);
  if (compression !== BI_RGB && !(compression === BI_BITFIELDS && bitsPerPixel === 32)) {
    throw unsupported('compressed bitmaps are not supported');
  }
  // Bit fields other than the usual X8R8G8B8 layout would need per-pixel masking; refuse rather than guess.
  if (compression === BI_BITFIELDS && !hasStandardMasks(bytes, headerSize)) {
    throw unsupported('its colour masks are not the standard 8-bit BGR layout');
  }
  const rowSize = Math.ceil((width * bitsPerPixel) / 32) * 4;
  if (pixelOffset + rowSize * height > bytes.length) throw unsupported('the file is truncated');
  let palette: Buffer | undefined;
  if (bitsPerPixel === 8) {
    const colours = bytes.readUInt32LE(46) || 256;
    const paletteStart = 14 + headerSize;
    if (colours > 256 || paletteStart + colours * 4 > pixelOffset)
      throw unsupported('its palette is invalid');
    palette = bytes.subarray(paletteStart, paletteStart + colours * 4);
  }
  const topDown = rawHeight < 0;
  const out = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    const row = pixelOffset + (topDown ? y : height - 1 - y) * rowSize;
    for (let x = 0; x < width; x++) {
      const target = (y * width + x) * 3;
      let source: number;
      let from: Buffer = bytes;
      if (palette) {
        source = bytes[row + x] * 4;
        if (source + 2 >= palette.length) throw unsupported('a pixel refers past the palette');
        from = palette;
      } else {
        source = row + x * (bitsPerPixel / 8);
      }
      out[target] = from[source + 2];
      out[target + 1] = from[source + 1];
      out[target + 2] = from[source];
    }
  }
  return { data: out, width, height, channels: 3 };
}

/** The R, G, B masks follow the 40-byte header (or sit inside a V2+ header); X8R8G8B8 is the only layout read. */
function hasStandardMasks(bytes: Buffer, headerSize: number): boolean {
  const masksAt = 14 + 40;
  if (headerSize === 40 && bytes.length < masksAt + 12) return false;
  return (
    bytes.readUInt32LE(masksAt) === 0x00ff0000 &&
    bytes.readUInt32LE(masksAt + 4) === 0x0000ff00 &&
    bytes.readUInt32LE(masksAt + 8) === 0x000000ff
  );
}
