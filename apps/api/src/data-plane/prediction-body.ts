import type { Prediction } from './predictor';

const round = (ms: number): number => Math.round(ms * 10) / 10;

type Ranked = { label: string; display_name: string; confidence: number };

/**
 * One photo's answer as JSON: what `POST /v1/predictions` sends, and each line of a job's results. A type, not an
 * interface, so a job's store can keep it as a plain JSON record (Record<string, unknown>).
 */
export type PredictionBody = {
  model: { name: string; version: string };
  predictions: Ranked[];
  abstained: boolean;
  abstention?: { reason: 'low_confidence'; detail: string; min_confidence: number; candidates: Ranked[] };
  image: { format: string; width: number; height: number };
  timings: { fetch_ms: number; decode_ms: number; inference_ms: number; total_ms: number };
};

export function toPredictionBody({ classification, image, timings, abstention }: Prediction): PredictionBody {
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
