/**
 * An Open Inference Protocol request and answer as the data plane sees them, whichever front-end (REST JSON,
 * REST binary, gRPC) they came through. A tensor's contents stay in the form they arrived in: JSON or typed values,
 * or raw little-endian bytes, which reach the model without a per-element detour (an image file as its bytes, a
 * UINT8 or FP32 tensor as typed arrays).
 */
export type TensorData =
  /** Row-major elements, flat or nested (JSON `data`, gRPC typed contents); a BYTES element is base64 text (JSON) or bytes. */
  | { form: 'values'; values: unknown[] }
  /** Raw bytes (gRPC `raw_input_contents`, REST's binary tensor extension): little-endian, row-major. */
  | { form: 'raw'; bytes: Uint8Array };

export interface InferenceInput {
  name: string;
  shape: number[];
  datatype: string;
  data: TensorData;
}

export interface RequestedOutput {
  name: string;
  parameters?: {
    /** Classification extension: the top N classes as strings instead of the probabilities. */
    classification?: number;
    /** The `explanation` output's options (the explanation extension): method, class and occlusion parameters. */
    method?: string;
    class?: string;
    patch_size?: number;
    stride?: number;
    baseline?: number;
  };
}

export interface InferenceRequest {
  id?: string;
  /** `min_confidence`: abstain under this top-1 probability, instead of the model's own. */
  parameters?: { min_confidence?: number };
  inputs: InferenceInput[];
  outputs?: RequestedOutput[];
}

/** Probabilities, one row per image (FP32), or the classification extension's `"<probability>:<index>:<label>"` strings. */
export type InferenceOutput = (
  | { name: string; shape: number[]; datatype: 'FP32'; data: Float32Array }
  | { name: string; shape: number[]; datatype: 'BYTES'; data: string[] }
  | { name: string; shape: number[]; datatype: 'BOOL'; data: boolean[] }
) & {
  /** What an output needs to be read (the explanation's method, parameters, grid and classes). */
  parameters?: Record<string, string | number>;
};

export interface InferenceResponse {
  model_name: string;
  model_version: string;
  id?: string;
  /** The min_confidence in force, when answers may abstain. */
  parameters?: { min_confidence: number };
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
