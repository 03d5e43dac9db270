import type { PredictionResponseDto } from './dto/prediction-response.dto';
import type { Prediction } from '../data-plane/predictor';
import { toExplanationDto } from './explanation.mapper';
import { toModelInputImage } from './model-input-image';

const round = (ms: number): number => Math.round(ms * 10) / 10;

export function toPredictionResponse({
  classification,
  image,
  timings,
  abstention,
}: Prediction): PredictionResponseDto {
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

/** The response with its extras: `model_input` when the client asked for it, `explanation` when there is one. */
export async function toPredictionResponseWithExtras(
  prediction: Prediction,
  { modelInput }: { modelInput: boolean },
): Promise<PredictionResponseDto> {
  const response = toPredictionResponse(prediction);
  const pixels = prediction.modelInput;
  if (modelInput && pixels) response.model_input = await toModelInputImage(pixels);
  if (prediction.explanation) response.explanation = await toExplanationDto(prediction.explanation);
  return response;
}
