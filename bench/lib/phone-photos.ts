import sharp from 'sharp';

/** A phone camera's frame (12 MP, 4:3) and the 4000 × 3000 of many others. */
export const PHONE_JPEG = { width: 4032, height: 3024 };
export const PHONE_OTHER = { width: 4000, height: 3000 };

/** A 12 MP JPEG (quality 90, as phones save) made by upscaling a shared photo with sharp. */
export function phoneJpeg(photo: Buffer): Promise<Buffer> {
  return sharp(photo)
    .resize(PHONE_JPEG.width, PHONE_JPEG.height, { fit: 'fill', kernel: 'lanczos3' })
    .jpeg({ quality: 90 })
    .toBuffer();
}

/** The same photo as a 4000 × 3000 PNG and lossy WebP (quality 90), the other formats phones and apps send. */
export async function phoneOthers(photo: Buffer): Promise<{ png: Buffer; webp: Buffer }> {
  const big = sharp(photo).resize(PHONE_OTHER.width, PHONE_OTHER.height, { fit: 'fill', kernel: 'lanczos3' });
  const [png, webp] = await Promise.all([
    big.clone().png().toBuffer(),
    big.clone().webp({ quality: 90 }).toBuffer(),
  ]);
  return { png, webp };
}
