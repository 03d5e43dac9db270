import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import {
  heatmapOverlay,
  occlusionGrid,
  occlusionMap,
  pixelScores,
  type ClassifierLease,
  type OcclusionGrid,
  type OcclusionParameters,
  type RgbImage,
} from '@app/inference';
import { invalidField } from '@app/problem';
import { inSpan, untraced } from '@app/telemetry';
import type { EnvironmentVariables } from '../config/environment';

/** The explanation methods served; occlusion sensitivity is the one (see docs/explanations.md). */
export const EXPLAIN_METHODS = ['occlusion'] as const;
export type ExplainMethod = (typeof EXPLAIN_METHODS)[number];

/** What a client asks: the method, and optionally the class (label or index) and the occlusion parameters. */
export interface ExplainRequest {
  method: ExplainMethod;
  /** A label or a class index; the top-1 class when absent. */
  target?: string;
  patchSize?: number;
  stride?: number;
  baseline?: number;
}

export interface Explanation {
  method: ExplainMethod;
  target: { index: number; label: string; probability: number };
  parameters: OcclusionParameters;
  grid: OcclusionGrid;
  /** Row-major over `grid`: how much the class probability drops when that patch is masked. */
  scores: Float64Array;
  /** RGBA pixels the size of the model input to lay over it (`heatmapOverlay`), and the drop drawn fully red. */
  overlay: { rgba: Uint8Array; width: number; height: number; scale: number };
  cost: { maskedImages: number; ms: number };
}

/** Masked images of one explanation in flight at once (each waits in the background lane for a worker). */
const WINDOW = 4;

/**
 * Explanations on the exact pixels the model saw (the decoded, resized model input): the masked variants run on
 * the same engine, through the admission queue's background lane, so they never take a worker an interactive
 * request is waiting for.
 */
@Injectable()
export class Explainer {
  constructor(private readonly config: ConfigService<EnvironmentVariables, true>) {}

  /** The parameters a request gets, checked before anything runs (400 naming what is wrong). */
  parameters(request: ExplainRequest, width: number, height: number): OcclusionParameters {
    const side = Math.min(width, height);
    const patchSize = request.patchSize ?? Math.max(4, Math.round(side / 7));
    const stride = request.stride ?? Math.max(1, Math.round(patchSize / 2));
    const baseline = request.baseline ?? 128;
    if (!Number.isInteger(patchSize) || patchSize < 2 || patchSize > side)
      throw invalidField(
        'explain_patch_size',
        `explain_patch_size must be an integer from 2 to ${side} (the model input's side).`,
      );
    if (!Number.isInteger(stride) || stride < 1 || stride > patchSize)
      throw invalidField(
        'explain_stride',
        `explain_stride must be an integer from 1 to the patch size (${patchSize}).`,
      );
    if (!Number.isInteger(baseline) || baseline < 0 || baseline > 255)
      throw invalidField('explain_baseline', 'explain_baseline must be an integer grey level from 0 to 255.');
    const grid = occlusionGrid(width, height, { patchSize, stride, baseline });
    const cells = grid.x.length * grid.y.length;
    const limit = this.config.get('EXPLAIN_MAX_GRID_CELLS', { infer: true });
    if (cells > limit) {
      throw invalidField(
        'explain_stride',
        `A ${patchSize}-pixel patch every ${stride} pixels makes ${cells} masked images, more than the ${limit} this service runs for one explanation (EXPLAIN_MAX_GRID_CELLS): use a larger stride or patch.`,
      );
    }
    return { patchSize, stride, baseline };
  }

  /** The class to explain: the request's label or index, else the top-1 of `probabilities`. */
  target(request: ExplainRequest, labels: readonly string[], probabilities: Float64Array): number {
    if (request.target === undefined) return probabilities.indexOf(Math.max(...probabilities));
    const byLabel = labels.indexOf(request.target);
    if (byLabel >= 0) return byLabel;
    const index = Number(request.target);
    if (/^\d+$/.test(request.target) && index < labels.length) return index;
    throw invalidField(
      'explain_class',
      `explain_class must be one of this model's ${labels.length} labels or an index from 0 to ${labels.length - 1}; "${request.target}" is neither.`,
    );
  }

  async explain(
    lease: ClassifierLease,
    image: RgbImage,
    probabilities: Float64Array,
    request: ExplainRequest,
    signal?: AbortSignal,
  ): Promise<Explanation> {
    const parameters = this.parameters(request, image.width, image.height);
    const index = this.target(request, lease.labels, probabilities);
    const probability = probabilities[index];
    return inSpan(
      'explain.occlusion',
      { attributes: { 'food_vision.explain.class': lease.labels[index] } },
      async (span) => {
        // The masked runs are summed up in this span rather than traced one by one.
        const map = await untraced(() =>
          occlusionMap(
            image,
            probability,
            parameters,
            async (masked) => (await lease.probabilitiesOf(masked, { signal, lane: 'background' }))[index],
            WINDOW,
          ),
        );
        span?.setAttributes({ 'food_vision.explain.masked_images': map.maskedImages });
        const { width, height } = image;
        const { rgba, scale } = heatmapOverlay(pixelScores(map.scores, map.grid, parameters, width, height));
        return {
          method: request.method,
          target: { index, label: lease.labels[index], probability },
          parameters,
          grid: map.grid,
          scores: map.scores,
          overlay: { rgba, width, height, scale },
          cost: { maskedImages: map.maskedImages, ms: map.ms },
        };
      },
    );
  }
}
