import type { ModelFormat, ModelManifest, ModelState } from '@app/inference';
import { problem } from '@app/problem';
import type { V2ModelMetadataDto } from './dto/v2-metadata.dto';

export const IMAGE_INPUT = 'image';
export const TENSOR_INPUT = 'input';
export const PROBABILITIES_OUTPUT = 'probabilities';

/** `<project>_<format>`, the protocol's platform naming (its list has no TFLite or TF.js entries). */
const PLATFORMS: Record<ModelFormat, string> = {
  tflite: 'tensorflow_tflite',
  'tfjs-layers': 'tensorflowjs_layers',
  'tfjs-graph': 'tensorflowjs_graph',
  'keras-h5': 'keras_h5',
  onnx: 'onnx_onnxv1',
};

export type KnownModel = ModelState & { manifest: ModelManifest };

/** The served model called `name` (at `version`, when given), or a 404 `model_not_found` that names what is served. */
export function servedModel(state: ModelState, name: string, version?: string): KnownModel {
  const manifest = state.manifest;
  if (!manifest || manifest.name !== name) {
    const served = manifest ? `; this server serves "${manifest.name}"` : '';
    throw problem('model_not_found', `There is no model named "${name}"${served}.`);
  }
  if (version !== undefined && version !== manifest.version) {
    throw problem(
      'model_not_found',
      `Model "${name}" has no version "${version}"; the version served is "${manifest.version}".`,
    );
  }
  return state as KnownModel;
}

/** Why the model cannot answer yet, or undefined when it is ready. */
export function notReadyReason(state: ModelState): string | undefined {
  if (state.status === 'ready') return undefined;
  if (state.status === 'loading') return 'The model is still loading; retry in a few seconds.';
  return `The model could not be loaded: ${state.reason}`;
}

/** The Open Inference Protocol view of the model: its two alternative inputs and its probabilities output. */
export function toV2ModelMetadata(model: KnownModel): V2ModelMetadataDto {
  const { manifest } = model;
  const { height, width } = manifest.input;
  const labelCount =
    model.status === 'ready' ? model.model.resolved.labels.length : (manifest.labels?.length ?? -1);
  return {
    name: manifest.name,
    versions: [manifest.version],
    platform: PLATFORMS[manifest.format],
    inputs: [
      { name: IMAGE_INPUT, datatype: 'BYTES', shape: [-1] },
      { name: TENSOR_INPUT, datatype: 'FP32', shape: [-1, height, width, 3] },
    ],
    outputs: [{ name: PROBABILITIES_OUTPUT, datatype: 'FP32', shape: [-1, labelCount] }],
  };
}
