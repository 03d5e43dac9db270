export type ImageFormat = 'jpeg' | 'png' | 'webp' | 'gif' | 'bmp';

/** How many leading bytes `sniffImageFormat` needs to recognise every supported format. */
export const SNIFF_BYTES = 18;

/** BITMAPCOREHEADER, BITMAPINFOHEADER, the V2/V3 variants, OS/2 v2, BITMAPV4HEADER, BITMAPV5HEADER. */
const BMP_HEADER_SIZES = new Set([12, 40, 52, 56, 64, 108, 124]);

/**
 * The image format from the magic bytes; Content-Type headers and file names are never trusted. Anything
 * else (SVG, HTML, TIFF, HEIC, PDF…) is `undefined` and never reaches a decoder.
 */
export function sniffImageFormat(bytes: Uint8Array): ImageFormat | undefined {
  const starts = (...signature: number[]): boolean =>
    bytes.length >= signature.length && signature.every((byte, i) => bytes[i] === byte);
  if (bytes.length < 12) return undefined;
  if (starts(0xff, 0xd8, 0xff)) return 'jpeg';
  if (starts(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return 'png';
  if (starts(0x47, 0x49, 0x46, 0x38) && (bytes[4] === 0x37 || bytes[4] === 0x39) && bytes[5] === 0x61)
    return 'gif';
  if (
    starts(0x52, 0x49, 0x46, 0x46) &&
    bytes[8] === 0x57 &&
    bytes[9] === 0x45 &&
    bytes[10] === 0x42 &&
    bytes[11] === 0x50
  ) {
    return 'webp';
  }
  // "BM" alone starts plenty of text; the DIB header size must be one a bitmap can have.
  if (starts(0x42, 0x4d) && bytes.length >= SNIFF_BYTES) {
    const headerSize = bytes[14] | (bytes[15] << 8) | (bytes[16] << 16) | (bytes[17] << 24);
    if (BMP_HEADER_SIZES.has(headerSize)) return 'bmp';
  }
  return undefined;
}
