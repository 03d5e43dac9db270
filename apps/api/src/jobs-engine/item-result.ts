import { problem as makeProblem, ProblemError } from '@app/problem';
import type { Prediction } from '../data-plane/predictor';
import { problemBody } from '../problem/problem-response';
import type { ItemProblem } from './job-types';

const round = (ms: number): number => Math.round(ms * 10) / 10;

/** A prediction as `POST /v1/predictions` answers it (the same fields, so one parser reads both). */
export function predictionBody({
  classification,
  image,
  timings,
  abstention,
}: Prediction): Record<string, unknown> {
  const predictions = classification.predictions.map((prediction) => ({
    label: prediction.label,
    display_name: prediction.displayName,
    confidence: prediction.confidence,
  }));
  return {
    model: classification.model,
    predictions,
    abstained: abstention !== undefined,
    ...(abstention
      ? {
          abstention: {
            reason: abstention.reason,
            detail: abstention.detail,
            min_confidence: abstention.min_confidence,
            candidates: predictions,
          },
        }
      : {}),
    image: { format: image.format, width: image.sourceWidth, height: image.sourceHeight },
    timings: {
      fetch_ms: round(timings.fetchMs),
      decode_ms: round(timings.decodeMs),
      inference_ms: round(timings.inferenceMs),
      total_ms: round(timings.totalMs),
    },
  };
}

/** Where an item's problem points: its job, then the item's index. */
export function itemInstance(jobId: string, index: number): string {
  return `/v1/jobs/${jobId}#/items/${index}`;
}

/** The problem body of an item, as `/v1` would send it for that photo alone. */
export function itemProblem(error: ProblemError, jobId: string, index: number): ItemProblem {
  return problemBody(error, itemInstance(jobId, index)) as ItemProblem;
}

export function asProblemError(reason: unknown): ProblemError {
  if (reason instanceof ProblemError) return reason;
  return makeProblem('internal_error', 'The server failed to classify this item; it has been logged.');
}
