import { problem } from '@app/problem';

/** Refuses an image whose header claims more than `maxPixels`, before any pixel is decoded or allocated. */
export function checkPixelCount(width: number, height: number, maxPixels: number): void {
  if (width * height > maxPixels) {
    throw problem(
      'image_too_many_pixels',
      `The image is ${width}×${height} pixels; at most ${maxPixels} pixels are decoded. Send a smaller image.`,
      { max_pixels: maxPixels },
    );
  }
}
