import type { ResolvedModel } from '../manifest/resolved-model';
import type { ModelRuntime } from './model-runtime';
import { serveLayersModel, type FloatModelOptions } from './float-model-runtime';
import { selectTfjsBackend } from './tfjs-backend';
import {
  checkLambdaLayers,
  DEFAULT_KERAS_H5_LIMITS,
  KerasModelError,
  loadKerasH5Model,
  type KerasH5Limits,
} from '@app/keras';
import { reportLoadStage } from '../common/load-stage';
import { ModelLoadError } from '../manifest/model-load-error';

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
  let model;
  try {
    const lambdaLayers = checkLambdaLayers(resolved.manifest.lambda_layers, resolved.manifestPath);
    ({ model } = await loadKerasH5Model(engine.tf, resolved.entryPath, limits, {
      lambdaLayers,
      reportLoadStage,
    }));
  } catch (error) {
    // The Keras library's refusal is this model's load error: its message says what is wrong and what to do.
    if (error instanceof KerasModelError) throw new ModelLoadError(error.message, { cause: error });
    throw error;
  }
  return serveLayersModel(engine, model, resolved.entryPath, options);
}
