import type * as TfCore from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { KerasModelError } from '../keras-model-error';
import { registerKerasCustomLayers } from './custom-layers';
import { H5File, type H5Limits } from './h5-file';
import { prepareKerasConfig } from './keras-config';
import type { LambdaLayerMap } from './lambda-layers';
import type { JsonValue } from './layer-rules';
import { loadKerasWeights, type WeightLoadLimits } from './weight-loader';

export type KerasH5Limits = H5Limits & WeightLoadLimits;

const MIB = 1024 * 1024;

/** Limits for parsing a `.h5` that may come from anywhere: the file, the config text, the weights read. */
export const DEFAULT_KERAS_H5_LIMITS: KerasH5Limits = {
  maxFileBytes: 512 * MIB,
  maxAttributeChars: 32 * MIB,
  maxWeightBytes: 1024 * MIB,
};

export interface KerasModelInfo {
  kerasVersion?: string;
  backend?: string;
}

function parseConfig(text: string, file: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch (error) {
    throw new KerasModelError(`The model_config of ${file} is not valid JSON (${(error as Error).message}).`);
  }
}

/**
 * Rebuilds a Keras 2.x HDF5 model (`model.save('x.h5')`) as a TF.js LayersModel: reads the file with h5wasm,
 * checks and rewrites `model_config`, builds it with TF.js layers, then loads the weights by layer and name.
 * The backend must already be selected. The training config and optimizer state are ignored.
 */
export async function loadKerasH5Model(
  tf: typeof TfCore,
  path: string,
  limits: KerasH5Limits = DEFAULT_KERAS_H5_LIMITS,
  {
    lambdaLayers = {},
    reportLoadStage = () => undefined,
  }: {
    lambdaLayers?: LambdaLayerMap;
    /** Told each step as it starts (so a load that stalls can say where). */
    reportLoadStage?: (stage: string) => void;
  } = {},
): Promise<{ model: LayersModel; info: KerasModelInfo }> {
  reportLoadStage(`reading the Keras file ${path}`);
  const h5 = await H5File.open(path, limits);
  try {
    const kerasVersion =
      h5.stringAttribute('/', 'keras_version') ?? h5.stringAttribute('model_weights', 'keras_version');
    const backend = h5.stringAttribute('/', 'backend');
    if (kerasVersion && !kerasVersion.startsWith('2.')) {
      throw new KerasModelError(
        `The Keras file ${path} was saved by Keras ${kerasVersion}; this loader reads Keras 2.x files: re-save it with tf.keras 2.x or export it to ONNX or TF.js.`,
      );
    }
    const configText = h5.stringAttribute('/', 'model_config');
    if (!configText) {
      throw new KerasModelError(
        `The Keras file ${path} has no model_config (it holds weights only): save the whole model with model.save("model.h5").`,
      );
    }
    reportLoadStage('checking the Keras model config');
    const config = prepareKerasConfig(parseConfig(configText, path), path, lambdaLayers);
    const tfl = await import('@tensorflow/tfjs-layers');
    registerKerasCustomLayers(tf, tfl);
    let model: LayersModel;
    reportLoadStage('building the model from its config in TF.js layers');
    try {
      model = await tfl.models.modelFromJSON({
        modelTopology: config as TfCore.io.ModelArtifacts['modelTopology'],
      } as never);
    } catch (error) {
      throw new KerasModelError(
        `TF.js could not rebuild the model in ${path}: ${(error as Error).message}.`,
        {
          cause: error,
        },
      );
    }
    try {
      if (model.inputs.length !== 1 || model.outputs.length !== 1) {
        throw new KerasModelError(
          `The Keras model ${path} has ${model.inputs.length} inputs and ${model.outputs.length} outputs; an image classifier needs one of each.`,
        );
      }
      reportLoadStage('loading the weights');
      loadKerasWeights(tf, model, h5, limits);
    } catch (error) {
      model.dispose();
      throw error;
    }
    return { model, info: { kerasVersion, backend } };
  } finally {
    h5.close();
  }
}
