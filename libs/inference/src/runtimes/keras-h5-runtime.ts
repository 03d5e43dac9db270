import type { ResolvedModel } from '../manifest/resolved-model';
import type { ModelRuntime } from './model-runtime';
import { serveLayersModel, type FloatModelOptions } from './float-model-runtime';
import { selectTfjsBackend } from './tfjs-backend';
import { checkLambdaLayers } from '../formats/keras-h5/lambda-layers';
import {
  DEFAULT_KERAS_H5_LIMITS,
  loadKerasH5Model,
  type KerasH5Limits,
} from '../formats/keras-h5/keras-h5-model';

/**
 * A Keras 2.x `.h5` model, rebuilt in TF.js layers, then served like any layers model: converted to ONNX for
 * onnxruntime when it can be, else on the TF.js runtime (computed in float32 either way).
 */
export async function loadKerasH5Runtime(
  resolved: ResolvedModel,
  options: FloatModelOptions,
  limits: KerasH5Limits = DEFAULT_KERAS_H5_LIMITS,
): Promise<ModelRuntime> {
  const engine = await selectTfjsBackend();
  const lambdaLayers = checkLambdaLayers(resolved.manifest.lambda_layers, resolved.manifestPath);
  const { model } = await loadKerasH5Model(engine.tf, resolved.entryPath, limits, { lambdaLayers });
  return serveLayersModel(engine, model, resolved.entryPath, options);
}
