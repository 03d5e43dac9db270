import {
  versionNotServed,
  type ModelFormat,
  type ModelManifest,
  type ModelRegistry,
  type ServedModel,
} from '@app/inference';
import { problem } from '@app/problem';
import type { ModelMetadata } from './inference-request';

export const IMAGE_INPUT = 'image';
export const TENSOR_INPUT = 'input';
export const PROBABILITIES_OUTPUT = 'probabilities';
/** BOOL [N]: whether each image's answer is withheld (its top-1 probability under the min_confidence in force). */
export const ABSTAINED_OUTPUT = 'abstained';

/** `<project>_<format>`, the protocol's platform naming (its list has no TFLite or TF.js entries). */
const PLATFORMS: Record<ModelFormat, string> = {
  tflite: 'tensorflow_tflite',
  'tfjs-layers': 'tensorflowjs_layers',
  'tfjs-graph': 'tensorflowjs_graph',
  'keras-h5': 'keras_h5',
  onnx: 'onnx_onnxv1',
};

/** The versions a request may name: the one served (the latest of a model store's version folders). */
function requestableVersions({ state, versions }: ServedModel): string[] {
  return state.manifest ? [state.manifest.version] : versions.slice(-1);
}

/** The served model called `name` (serving `version`, when given), or a 404 problem that says what is served. */
export function servedModel(models: ModelRegistry, name: string, version?: string): ServedModel {
  const served = models.stateOf(name);
  const available = requestableVersions(served);
  if (version !== undefined && !available.includes(version)) throw versionNotServed(name, available, version);
  return served;
}

/** The Open Inference Protocol view of the model: its two alternative inputs and its probabilities output. */
export function toV2ModelMetadata(served: ServedModel): ModelMetadata {
  const manifest: ModelManifest | undefined = served.state.manifest;
  if (!manifest) {
    throw problem('model_not_ready', `Model ${served.name} is still loading; its inputs are not known yet.`, {
      retry_after_seconds: 5,
    });
  }
  const { height, width } = manifest.input;
  const { state } = served;
  const labelCount =
    state.status === 'ready' ? state.model.resolved.labels.length : (manifest.labels?.length ?? -1);
  return {
    name: served.name,
    versions: requestableVersions(served),
    platform: PLATFORMS[manifest.format],
    inputs: [
      { name: IMAGE_INPUT, datatype: 'BYTES', shape: [-1] },
      { name: TENSOR_INPUT, datatype: 'FP32', shape: [-1, height, width, 3] },
    ],
    outputs: [{ name: PROBABILITIES_OUTPUT, datatype: 'FP32', shape: [-1, labelCount] }],
  };
}
