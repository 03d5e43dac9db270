import { problem } from '@app/problem';
import { minConfidenceParameter } from '../data-plane/abstention';
import type { InferenceRequest, InferenceResponse } from '../data-plane/inference-request';
import { tensorLabel } from '../data-plane/tensor-label';
import type { V2InferenceRequestDto, V2InferenceResponseDto } from './dto/v2-inference.dto';

/**
 * A validated /v2 body as the data plane's request: each input's JSON `data`, or the bytes the binary tensor
 * extension sent after the JSON for it (`binary`, by input index), left as bytes.
 */
export function toInferenceRequest(
  body: V2InferenceRequestDto,
  binary: ReadonlyMap<number, Uint8Array>,
): InferenceRequest {
  const minConfidence = minConfidenceParameter(body.parameters?.min_confidence, 'parameters.min_confidence');
  return {
    ...(body.id !== undefined ? { id: body.id } : {}),
    ...(minConfidence !== undefined ? { parameters: { min_confidence: minConfidence } } : {}),
    inputs: body.inputs.map(({ name, shape, datatype, data }, index) => {
      const bytes = binary.get(index);
      if (bytes) return { name, shape, datatype, data: { form: 'raw', bytes } };
      if (data === undefined) {
        throw problem(
          'validation_failed',
          `Input "${tensorLabel(name)}" has no data: send its values in "data", or its bytes after the JSON with parameters.binary_data_size (binary tensor data extension).`,
        );
      }
      return { name, shape, datatype, data: { form: 'values', values: data } };
    }),
    ...(body.outputs !== undefined ? { outputs: body.outputs } : {}),
  };
}

/** The data plane's answer as JSON: an FP32 block becomes a number array here, and only here. */
export function toV2Response(response: InferenceResponse): V2InferenceResponseDto {
  return {
    ...response,
    outputs: response.outputs.map((output) =>
      output.datatype === 'FP32' ? { ...output, data: Array.from(output.data) } : output,
    ),
  };
}
