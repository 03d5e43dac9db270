import type { PredictionResponseDto } from './dto/prediction-response.dto';
import type { Prediction } from '../data-plane/predictor';
import { toPredictionBody } from '../data-plane/prediction-body';
import { toExplanationDto } from './explanation.mapper';
import { toModelInputImage } from './model-input-image';

/** The /v1 answer for one photo (the data plane's JSON view of a prediction; a job's result lines share it). */
export function toPredictionResponse(prediction: Prediction): PredictionResponseDto {
  return toPredictionBody(prediction);
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
