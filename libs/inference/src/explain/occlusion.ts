import type { RgbImage } from '../processing/to-model-input';

/** How an occlusion map is made: square patches of `patchSize` pixels, `stride` apart, filled with `baseline`. */
export interface OcclusionParameters {
  /** Side of the square patch, in model-input pixels. */
  patchSize: number;
  /** Distance between two patch origins, in model-input pixels. */
  stride: number;
  /** The grey level (0–255, all three channels) a patch is filled with, before the model's own scaling. */
  baseline: number;
}

/**
 * Where the patches go: origins `stride` apart from 0, plus one flush with the far edge when the stride does not
 * land there, so every pixel is covered. Cell (row, col) is the patch at (x[col], y[row]).
 */
export interface OcclusionGrid {
  x: number[];
  y: number[];
}

function origins(size: number, patchSize: number, stride: number): number[] {
  const last = Math.max(0, size - patchSize);
  const positions: number[] = [];
  for (let at = 0; at <= last; at += stride) positions.push(at);
  if (positions.at(-1) !== last) positions.push(last);
  return positions;
}

export function occlusionGrid(width: number, height: number, parameters: OcclusionParameters): OcclusionGrid {
  return {
    x: origins(width, parameters.patchSize, parameters.stride),
    y: origins(height, parameters.patchSize, parameters.stride),
  };
}

/** A copy of `image` with the patch at (x, y) filled with the baseline (clipped to the image). */
export function maskedImage(
  image: RgbImage,
  x: number,
  y: number,
  parameters: OcclusionParameters,
): RgbImage {
  const data = image.data.slice();
  const right = Math.min(image.width, x + parameters.patchSize);
  const bottom = Math.min(image.height, y + parameters.patchSize);
  for (let row = y; row < bottom; row++)
    data.fill(parameters.baseline, (row * image.width + x) * 3, (row * image.width + right) * 3);
  return { data, width: image.width, height: image.height };
}

export interface OcclusionMap {
  grid: OcclusionGrid;
  /** Row-major, `grid.y.length × grid.x.length`: the class probability without the patch minus with it. */
  scores: Float64Array;
  maskedImages: number;
  ms: number;
}

/**
 * Occlusion sensitivity (Zeiler and Fergus, 2014): each cell is how much the class probability drops when that
 * patch of the model's input is replaced by the baseline. `probability` runs the model on one masked image and
 * answers the class's probability; at most `window` run at once (each is one task in the admission queue).
 */
export async function occlusionMap(
  image: RgbImage,
  baseProbability: number,
  parameters: OcclusionParameters,
  probability: (masked: RgbImage) => Promise<number>,
  window: number,
): Promise<OcclusionMap> {
  const started = performance.now();
  const grid = occlusionGrid(image.width, image.height, parameters);
  const cells = grid.y.flatMap((y) => grid.x.map((x) => ({ x, y })));
  const scores = new Float64Array(cells.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < cells.length) {
      const index = next++;
      const { x, y } = cells[index];
      scores[index] = baseProbability - (await probability(maskedImage(image, x, y, parameters)));
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(window, cells.length)) }, worker));
  return { grid, scores, maskedImages: cells.length, ms: performance.now() - started };
}
