import { problem } from '@app/problem';
import type {
  TensorData,
  InferenceInput,
  InferenceRequest,
  InferenceResponse,
  RequestedOutput,
} from '../data-plane/inference-request';
import { minConfidenceParameter } from '../data-plane/abstention';
import { encodeRawOutput } from '../data-plane/raw-tensor';

const invalid = (detail: string) => problem('validation_failed', detail);

/** The messages of open_inference_grpc.proto as @grpc/proto-loader gives them (keepCase, longs as numbers). */
export interface InferParameter {
  parameter_choice?: 'bool_param' | 'int64_param' | 'string_param' | 'double_param' | 'uint64_param';
  bool_param?: boolean;
  int64_param?: number;
  string_param?: string;
  double_param?: number;
  uint64_param?: number;
}

export interface InferTensorContents {
  bool_contents: boolean[];
  int_contents: number[];
  int64_contents: number[];
  uint_contents: number[];
  uint64_contents: number[];
  fp32_contents: number[];
  fp64_contents: number[];
  bytes_contents: Uint8Array[];
}

export interface ModelInferRequest {
  model_name: string;
  model_version: string;
  id: string;
  parameters: Record<string, InferParameter>;
  inputs: Array<{
    name: string;
    datatype: string;
    shape: number[];
    parameters: Record<string, InferParameter>;
    contents: InferTensorContents | null;
  }>;
  outputs: Array<{ name: string; parameters: Record<string, InferParameter> }>;
  raw_input_contents: Uint8Array[];
}

export interface ModelInferResponse {
  model_name: string;
  model_version: string;
  id: string;
  parameters?: Record<string, InferParameter>;
  outputs: Array<{
    name: string;
    datatype: string;
    shape: number[];
    contents?: Partial<InferTensorContents>;
  }>;
  raw_output_contents: Buffer[];
}

/** The typed `contents` field a datatype uses (the proto's InferTensorContents comments). */
function typedContents(contents: InferTensorContents, datatype: string): unknown[] {
  switch (datatype) {
    case 'BYTES':
      return contents.bytes_contents;
    case 'FP32':
      return contents.fp32_contents;
    case 'FP64':
      return contents.fp64_contents;
    case 'UINT8':
    case 'UINT16':
    case 'UINT32':
      return contents.uint_contents;
    case 'UINT64':
      return contents.uint64_contents;
    case 'INT8':
    case 'INT16':
    case 'INT32':
      return contents.int_contents;
    case 'INT64':
      return contents.int64_contents;
    case 'BOOL':
      return contents.bool_contents;
    default:
      return [];
  }
}

const hasContents = (contents: InferTensorContents | null): boolean =>
  contents !== null && Object.values(contents).some((field) => Array.isArray(field) && field.length > 0);

function classificationOf(output: ModelInferRequest['outputs'][number]): number | undefined {
  const parameter = output.parameters?.classification;
  if (parameter === undefined) return undefined;
  const value =
    parameter.parameter_choice === 'int64_param'
      ? parameter.int64_param
      : parameter.parameter_choice === 'uint64_param'
        ? parameter.uint64_param
        : undefined;
  if (value === undefined || !Number.isInteger(value) || value < 1) {
    throw invalid(
      `Output "${output.name}": the classification parameter is an integer (int64_param) of at least 1.`,
    );
  }
  return value;
}

/** The explanation extension's output parameters: `method` and `class` as strings, the sizes as integers. */
function explanationParameters(output: ModelInferRequest['outputs'][number]): RequestedOutput['parameters'] {
  const parameters: NonNullable<RequestedOutput['parameters']> = {};
  for (const key of ['method', 'class'] as const) {
    const parameter = output.parameters?.[key];
    if (parameter === undefined) continue;
    if (parameter.parameter_choice !== 'string_param')
      throw invalid(`Output "${output.name}": the ${key} parameter is a string (string_param).`);
    parameters[key] = parameter.string_param;
  }
  for (const key of ['patch_size', 'stride', 'baseline'] as const) {
    const parameter = output.parameters?.[key];
    if (parameter === undefined) continue;
    const value = parameter.parameter_choice === 'int64_param' ? parameter.int64_param : undefined;
    if (value === undefined || !Number.isInteger(value) || value < 0)
      throw invalid(`Output "${output.name}": the ${key} parameter is a non-negative integer (int64_param).`);
    parameters[key] = value;
  }
  return parameters;
}

/** Parameters as InferParameters: strings as string_param, integers as int64_param, other numbers as double_param. */
function toInferParameters(parameters: Record<string, string | number>): Record<string, InferParameter> {
  return Object.fromEntries(
    Object.entries(parameters).map(([key, value]) => [
      key,
      typeof value !== 'number'
        ? { parameter_choice: 'string_param', string_param: value }
        : Number.isInteger(value)
          ? { parameter_choice: 'int64_param', int64_param: value }
          : { parameter_choice: 'double_param', double_param: value },
    ]),
  );
}

/** The request's `min_confidence` parameter (double_param; int64 0 or 1 also reads as a probability). */
function minConfidenceOf(request: ModelInferRequest): number | undefined {
  const parameter = request.parameters?.min_confidence;
  if (parameter === undefined) return undefined;
  const value =
    parameter.parameter_choice === 'double_param'
      ? parameter.double_param
      : parameter.parameter_choice === 'int64_param'
        ? Number(parameter.int64_param)
        : (parameter.string_param ?? parameter.bool_param);
  return minConfidenceParameter(value, 'parameters.min_confidence');
}

/**
 * A ModelInferRequest as the data plane's request, with what the proto's types leave open checked here (the REST
 * front-end's DTO validation does the same): a model name, non-negative shapes, either typed `contents` or
 * `raw_input_contents` (one per input, in order), integer classification counts.
 */
export function toInferenceRequest(request: ModelInferRequest): {
  model: string;
  version?: string;
  body: InferenceRequest;
} {
  if (!request.model_name) throw invalid('model_name is required: name the model to run.');
  const raw = request.raw_input_contents ?? [];
  if (raw.length > 0 && raw.length !== request.inputs.length) {
    throw invalid(
      `raw_input_contents has ${raw.length} entries for ${request.inputs.length} inputs: send one per input, in order.`,
    );
  }
  if (request.inputs.length === 0)
    throw invalid('The request has no inputs: send "image" (BYTES) or "input" (FP32).');
  const inputs: InferenceInput[] = request.inputs.map((input, index) => {
    if (!input.name) throw invalid(`inputs[${index}] has no name.`);
    const shape = input.shape.map(Number);
    if (shape.some((dimension) => !Number.isSafeInteger(dimension) || dimension < 0)) {
      throw invalid(
        `Input "${input.name}" has shape [${shape.join(', ')}]: dimensions are non-negative integers.`,
      );
    }
    if (raw.length > 0 && hasContents(input.contents)) {
      throw invalid(
        `Input "${input.name}" has contents although raw_input_contents is used: send the data one way only.`,
      );
    }
    const data: TensorData =
      raw.length > 0
        ? { form: 'raw', bytes: raw[index] }
        : { form: 'values', values: input.contents ? typedContents(input.contents, input.datatype) : [] };
    return { name: input.name, datatype: input.datatype, shape, data };
  });
  const minConfidence = minConfidenceOf(request);
  const outputs: RequestedOutput[] = request.outputs.map((output, index) => {
    if (!output.name) throw invalid(`outputs[${index}] has no name.`);
    const classification = classificationOf(output);
    const explanation = explanationParameters(output);
    const parameters = { ...(classification !== undefined ? { classification } : {}), ...explanation };
    return { name: output.name, ...(Object.keys(parameters).length > 0 ? { parameters } : {}) };
  });
  return {
    model: request.model_name,
    ...(request.model_version ? { version: request.model_version } : {}),
    body: {
      ...(request.id ? { id: request.id } : {}),
      ...(minConfidence !== undefined ? { parameters: { min_confidence: minConfidence } } : {}),
      inputs,
      outputs,
    },
  };
}

/** The data plane's answer as a ModelInferResponse: raw_output_contents when the request sent raw inputs (as KServe does). */
export function toModelInferResponse(response: InferenceResponse, raw: boolean): ModelInferResponse {
  return {
    model_name: response.model_name,
    model_version: response.model_version,
    id: response.id ?? '',
    ...(response.parameters ? { parameters: toInferParameters(response.parameters) } : {}),
    outputs: response.outputs.map((output) => ({
      name: output.name,
      datatype: output.datatype,
      shape: output.shape,
      ...(output.parameters ? { parameters: toInferParameters(output.parameters) } : {}),
      ...(raw
        ? {}
        : {
            contents:
              output.datatype === 'FP32'
                ? { fp32_contents: Array.from(output.data) }
                : output.datatype === 'BOOL'
                  ? { bool_contents: output.data }
                  : { bytes_contents: output.data.map((element) => Buffer.from(element, 'utf8')) },
          }),
    })),
    raw_output_contents: raw ? response.outputs.map(encodeRawOutput) : [],
  };
}
