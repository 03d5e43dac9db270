import sharp from 'sharp';
import type { Explanation } from '../data-plane/explainer';
import type { ExplanationDto } from './dto/explanation.dto';

const round = (value: number, digits: number): number => Number(value.toFixed(digits));

/** The explanation for JSON: scores as rows, and the overlay as a transparent PNG the size of the model input. */
export async function toExplanationDto(explanation: Explanation): Promise<ExplanationDto> {
  const { grid, scores, parameters, target, cost } = explanation;
  const { rgba, width, height, scale } = explanation.overlay;
  const png = await sharp(rgba, { raw: { width, height, channels: 4 } })
    .png()
    .toBuffer();
  return {
    method: explanation.method,
    class: { index: target.index, label: target.label, probability: target.probability },
    parameters: {
      patch_size: parameters.patchSize,
      stride: parameters.stride,
      baseline: parameters.baseline,
    },
    grid: { x: grid.x, y: grid.y },
    scores: grid.y.map((_, row) =>
      Array.from(scores.subarray(row * grid.x.length, (row + 1) * grid.x.length), (score) => round(score, 6)),
    ),
    overlay: { media_type: 'image/png', width, height, data: png.toString('base64') },
    overlay_scale: round(scale, 6),
    cost: { masked_images: cost.maskedImages, ms: round(cost.ms, 1) },
  };
}
