import { problem } from '@app/problem';
import { EXPLAIN_METHODS, type ExplainMethod, type ExplainRequest, type Explanation } from './explainer';
import type { InferenceOutput, RequestedOutput } from './inference-request';

/**
 * The explanation extension of the Open Inference Protocol here: an output named `explanation` (parameters `method`
 * = `occlusion`, and optionally `class`, `patch_size`, `stride`, `baseline`) answers, for each image of the
 * `image` input, the occlusion map of /v1's `?explain=occlusion` as FP32 [batch, rows, cols], with what is needed to
 * read it in the output's parameters. See docs/explanations.md.
 */
export const EXPLANATION_OUTPUT = 'explanation';

const invalid = (detail: string) => problem('validation_failed', detail);

/** The explanation an `explanation` output asks for, checked like /v1's query parameters. */
export function explainRequestOf(parameters: RequestedOutput['parameters']): ExplainRequest {
  const method = parameters?.method ?? 'occlusion';
  if (!(EXPLAIN_METHODS as readonly string[]).includes(method))
    throw invalid(
      `Output "${EXPLANATION_OUTPUT}": method must be one of ${EXPLAIN_METHODS.join(', ')} (got "${method}").`,
    );
  return {
    method: method as ExplainMethod,
    ...(parameters?.class !== undefined ? { target: parameters.class } : {}),
    ...(parameters?.patch_size !== undefined ? { patchSize: parameters.patch_size } : {}),
    ...(parameters?.stride !== undefined ? { stride: parameters.stride } : {}),
    ...(parameters?.baseline !== undefined ? { baseline: parameters.baseline } : {}),
  };
}

/** One FP32 block of every image's map, with the method, its parameters, the grid and each row's class. */
export function toExplanationOutput(name: string, explanations: Explanation[]): InferenceOutput {
  const [first] = explanations;
  const rows = first.grid.y.length;
  const cols = first.grid.x.length;
  const data = new Float32Array(explanations.length * rows * cols);
  explanations.forEach((explanation, index) => data.set(explanation.scores, index * rows * cols));
  return {
    name,
    datatype: 'FP32',
    shape: [explanations.length, rows, cols],
    data,
    parameters: {
      method: first.method,
      patch_size: first.parameters.patchSize,
      stride: first.parameters.stride,
      baseline: first.parameters.baseline,
      grid_x: first.grid.x.join(','),
      grid_y: first.grid.y.join(','),
      class_index: explanations.map((explanation) => explanation.target.index).join(','),
      class_label: explanations.map((explanation) => explanation.target.label).join(','),
      masked_images: explanations.reduce((sum, explanation) => sum + explanation.cost.maskedImages, 0),
    },
  };
}
