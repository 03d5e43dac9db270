import type { OcclusionGrid, OcclusionParameters } from './occlusion';

/**
 * The map on the model-input grid, pixel by pixel: each pixel gets the mean score of the patches that cover it.
 * Row-major, `width × height`.
 */
export function pixelScores(
  scores: Float64Array,
  grid: OcclusionGrid,
  parameters: OcclusionParameters,
  width: number,
  height: number,
): Float64Array {
  const sum = new Float64Array(width * height);
  const count = new Uint16Array(width * height);
  grid.y.forEach((y, row) =>
    grid.x.forEach((x, col) => {
      const score = scores[row * grid.x.length + col];
      for (let py = y; py < Math.min(height, y + parameters.patchSize); py++) {
        for (let px = x; px < Math.min(width, x + parameters.patchSize); px++) {
          sum[py * width + px] += score;
          count[py * width + px]++;
        }
      }
    }),
  );
  return sum.map((value, index) => (count[index] === 0 ? 0 : value / count[index]));
}

/**
 * An RGBA overlay of the positive part of the map (where masking lowered the class probability), scaled to the
 * largest drop: transparent at 0, then yellow to red and more opaque as the drop grows. Negative cells (masking
 * raised the probability) stay transparent. `scale` is that largest drop (0 when nothing lowered it).
 */
export function heatmapOverlay(pixels: Float64Array): { rgba: Uint8Array; scale: number } {
  let scale = 0;
  for (const value of pixels) if (value > scale) scale = value;
  const rgba = new Uint8Array(pixels.length * 4);
  if (scale <= 0) return { rgba, scale: 0 };
  pixels.forEach((value, index) => {
    const t = Math.max(0, value) / scale;
    rgba[index * 4] = 255;
    rgba[index * 4 + 1] = Math.round(230 * (1 - t));
    rgba[index * 4 + 2] = 0;
    rgba[index * 4 + 3] = Math.round(220 * Math.sqrt(t));
  });
  return { rgba, scale };
}
