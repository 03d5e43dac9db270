/**
 * An Open Inference Protocol request and answer as the data plane sees them, whichever front-end (REST JSON,
 * REST binary, gRPC) they came through. BYTES elements are base64 strings, numeric tensors plain numbers: the
 * front-ends decode their wire forms into this one shape, so every request meets the same checks.
 */
export interface InferenceInput {
  name: string;
  shape: number[];
  datatype: string;
  /** Row-major elements, flat or nested; BYTES elements are base64 strings. */
  data: unknown[];
}

export interface RequestedOutput {
  name: string;
  /** Classification extension: the top N classes as strings instead of the probabilities. */
  parameters?: { classification?: number };
}

export interface InferenceRequest {
  id?: string;
  inputs: InferenceInput[];
  outputs?: RequestedOutput[];
}

export interface InferenceOutput {
  name: string;
  shape: number[];
  datatype: string;
  /** FP32: probabilities; BYTES: `"<probability>:<index>:<label>"` strings. */
  data: Array<number | string>;
}

export interface InferenceResponse {
  model_name: string;
  model_version: string;
  id?: string;
  outputs: InferenceOutput[];
}

export interface TensorMetadata {
  name: string;
  datatype: string;
  shape: number[];
}

export interface ModelMetadata {
  name: string;
  versions: string[];
  platform: string;
  inputs: TensorMetadata[];
  outputs: TensorMetadata[];
}
