/** What the segments before a JPEG's image data say about how libvips would show it. */
export interface JpegDisplay {
  /** The EXIF orientation, 1 (as stored) when there is no EXIF or it has no orientation tag. */
  orientation: number;
  /**
   * The embedded ICC profile (APP2 `ICC_PROFILE`), which libvips converts to sRGB with: `srgb` for IEC 61966-2.1
   * sRGB itself (the profile cameras and Photoshop embed, which libvips leaves as it is), `other` for any other.
   */
  icc: 'none' | 'srgb' | 'other';
}

const EXIF = 'Exif\0\0';
const ICC = 'ICC_PROFILE\0';
/** In an ICC profile's header: device manufacturer and model at bytes 48–55. */
const SRGB_DEVICE = 'IEC sRGB';
const ORIENTATION_TAG = 0x0112;

function startsWith(bytes: Uint8Array, at: number, text: string): boolean {
  if (at + text.length > bytes.length) return false;
  for (let i = 0; i < text.length; i++) if (bytes[at + i] !== text.charCodeAt(i)) return false;
  return true;
}

/**
 * The orientation in the TIFF structure at `start` (inside an APP1 segment ending at `end`): 1 when it has no
 * orientation tag, undefined when it cannot be read or the value is not 1–8.
 */
function exifOrientation(bytes: Uint8Array, start: number, end: number): number | undefined {
  if (start + 8 > end) return undefined;
  const little = bytes[start] === 0x49 && bytes[start + 1] === 0x49;
  if (!little && !(bytes[start] === 0x4d && bytes[start + 1] === 0x4d)) return undefined;
  const u16 = (at: number) => (little ? bytes[at] | (bytes[at + 1] << 8) : (bytes[at] << 8) | bytes[at + 1]);
  const u32 = (at: number) => (little ? u16(at) + u16(at + 2) * 0x10000 : u16(at) * 0x10000 + u16(at + 2));
  const ifd = start + u32(start + 4);
  if (ifd + 2 > end) return undefined;
  const entries = u16(ifd);
  for (let i = 0; i < entries; i++) {
    const entry = ifd + 2 + i * 12;
    if (entry + 12 > end) return undefined;
    if (u16(entry) === ORIENTATION_TAG) {
      const value = u16(entry + 8);
      return value >= 1 && value <= 8 ? value : undefined;
    }
  }
  return 1;
}

/**
 * Reads the marker segments from SOI up to the first SOS (no image data). Undefined when they are not well
 * formed: the caller then leaves the file to libvips.
 */
export function readJpegDisplay(bytes: Uint8Array): JpegDisplay | undefined {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return undefined;
  const display: JpegDisplay = { orientation: 1, icc: 'none' };
  let exif = false;
  let at = 2;
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) return undefined;
    const marker = bytes[at + 1];
    if (marker === 0xff) {
      at++; // fill byte
      continue;
    }
    if (marker === 0xda) return display; // SOS: the image data starts
    if (marker === 0xd9) return undefined; // EOI before any image data
    const length = (bytes[at + 2] << 8) | bytes[at + 3];
    const start = at + 4;
    const end = at + 2 + length;
    if (length < 2 || end > bytes.length) return undefined;
    if (marker === 0xe1 && !exif && startsWith(bytes, start, EXIF)) {
      // libvips reads the first EXIF block; one this cannot read is left to libvips.
      exif = true;
      const orientation = exifOrientation(bytes, start + EXIF.length, end);
      if (orientation === undefined) return undefined;
      display.orientation = orientation;
    }
    if (marker === 0xe2 && startsWith(bytes, start, ICC)) {
      // After the name: the chunk's sequence number and count, then the profile (its header in chunk 1).
      const profile = start + ICC.length + 2;
      const first = bytes[start + ICC.length] === 1;
      if (first && display.icc === 'none' && startsWith(bytes, profile + 48, SRGB_DEVICE))
        display.icc = 'srgb';
      else if (first || display.icc === 'none') display.icc = 'other';
    }
    at = end;
  }
  return undefined;
}
