import { describe, expect, it } from 'vitest';
import { heatmapOverlay, pixelScores } from './heatmap';
import { maskedImage, occlusionGrid, occlusionMap } from './occlusion';

const parameters = { patchSize: 4, stride: 3, baseline: 7 };

describe('occlusion', () => {
  it('covers every pixel: origins a stride apart, plus one flush with the far edge', () => {
    expect(occlusionGrid(10, 4, parameters)).toEqual({ x: [0, 3, 6], y: [0] });
    expect(occlusionGrid(11, 9, parameters)).toEqual({ x: [0, 3, 6, 7], y: [0, 3, 5] });
    expect(occlusionGrid(3, 3, parameters)).toEqual({ x: [0], y: [0] });
  });

  it('masks one patch with the baseline, clipped to the image, and leaves the original alone', () => {
    const image = { data: new Uint8Array(5 * 5 * 3).fill(200), width: 5, height: 5 };
    const masked = maskedImage(image, 3, 3, parameters);
    const grey = (x: number, y: number) => masked.data[(y * 5 + x) * 3];
    expect([grey(3, 3), grey(4, 4), grey(2, 3), grey(3, 2)]).toEqual([7, 7, 200, 200]);
    expect(image.data.every((value) => value === 200)).toBe(true);
  });

  it('scores each cell as the probability drop its mask causes, and draws only the drops', async () => {
    const image = { data: new Uint8Array(6 * 6 * 3).fill(100), width: 6, height: 6 };
    // A stand-in model: the probability is the share of pixels that are not the baseline.
    const probability = (masked: { data: Uint8Array }) =>
      Promise.resolve(masked.data.filter((value) => value !== 7).length / masked.data.length);
    const map = await occlusionMap(image, 1, { patchSize: 3, stride: 3, baseline: 7 }, probability, 2);
    expect(map.maskedImages).toBe(4);
    expect(Array.from(map.scores)).toEqual([0.25, 0.25, 0.25, 0.25]);
    const pixels = pixelScores(
      Float64Array.from([0.5, 0, -0.2, 0]),
      map.grid,
      { patchSize: 3, stride: 3, baseline: 7 },
      6,
      6,
    );
    const { rgba, scale } = heatmapOverlay(pixels);
    expect(scale).toBe(0.5);
    // Top-left patch fully opaque red-ish; the negative patch stays transparent.
    expect(Array.from(rgba.subarray(0, 4))).toEqual([255, 0, 0, 220]);
    expect(rgba[(3 * 6 + 0) * 4 + 3]).toBe(0);
  });
});
