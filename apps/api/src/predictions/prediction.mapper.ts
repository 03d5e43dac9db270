import type { PredictionResponseDto } from './dto/prediction-response.dto';
import type { Prediction } from '../data-plane/predictor';

const round = (ms: number): number => Math.round(ms * 10) / 10;

export function toPredictionResponse({ classification, image, timings }: Prediction): PredictionResponseDto {
  return {
    model: classification.model,
    predictions: classification.predictions.map((prediction) => ({
      label: prediction.label,
      display_name: prediction.displayName,
      confidence: prediction.confidence,
    })),
    image: { format: image.format, width: image.sourceWidth, height: image.sourceHeight },
    timings: {
      fetch_ms: round(timings.fetchMs),
      decode_ms: round(timings.decodeMs),
      inference_ms: round(timings.inferenceMs),
      total_ms: round(timings.totalMs),
    },
  };
}
