import { readFile } from 'node:fs/promises';
import { ModelLoadError } from '../manifest/model-load-error';
import type { ResolvedModel } from '../manifest/resolved-model';
import { loadKerasH5Runtime } from './keras-h5-runtime';
import { LiteRtRuntime } from './litert-runtime';
import type { ModelRuntime } from './model-runtime';
import { loadTfjsLayersModel, serveLayersModel, type FloatModelOptions } from './float-model-runtime';
import { OnnxRuntime } from './onnx-runtime';
import { reportLoadStage } from '../common/load-stage';
import { TfjsRuntime } from './tfjs-runtime';

export type RuntimeOptions = FloatModelOptions;

export const DEFAULT_RUNTIME_OPTIONS: RuntimeOptions = { floatEngine: 'onnxruntime', threads: 1 };

/** Opens a verified model in the engine its format needs (engines load their packages only when used). */
export async function createRuntime(
  resolved: ResolvedModel,
  options: RuntimeOptions = DEFAULT_RUNTIME_OPTIONS,
): Promise<ModelRuntime> {
  reportLoadStage(`opening the ${resolved.manifest.format} model in its engine`);
  const runtime = await openRuntime(resolved, options);
  reportLoadStage('warming up (the model is built; its first inference runs)');
  return runtime;
}

async function openRuntime(resolved: ResolvedModel, options: RuntimeOptions): Promise<ModelRuntime> {
  const { format } = resolved.manifest;
  switch (format) {
    case 'tflite':
      return LiteRtRuntime.load(resolved);
    case 'tfjs-layers': {
      const { engine, model } = await loadTfjsLayersModel(resolved);
      return serveLayersModel(engine, model, resolved.entryPath, options);
    }
    case 'tfjs-graph':
      return TfjsRuntime.load(resolved);
    case 'onnx':
      return OnnxRuntime.load(await readFile(resolved.entryPath), resolved.entryPath, options);
    case 'keras-h5':
      return loadKerasH5Runtime(resolved, options);
    default:
      throw new ModelLoadError(
        `Model "${resolved.manifest.name}" is in ${format as string} format, which this version cannot serve: use TFLite, TF.js, Keras .h5 or ONNX.`,
      );
  }
}

/** Refuses a manifest whose input or labels do not match the model it describes. */
export function checkRuntimeMatchesManifest(runtime: ModelRuntime, resolved: ResolvedModel): void {
  const { name, input } = resolved.manifest;
  const expected = [input.height, input.width, input.channels];
  const actual = runtime.inputShape.slice(1);
  const mismatch = actual.length !== 3 || expected.some((dim, i) => actual[i] !== -1 && actual[i] !== dim);
  if (mismatch) {
    throw new ModelLoadError(
      `Model "${name}" takes input [${runtime.inputShape.join(', ')}] but its manifest says ${input.height}×${input.width}×${input.channels}: fix input in the manifest.`,
    );
  }
  if (runtime.inputDtype !== input.dtype) {
    throw new ModelLoadError(
      `Model "${name}" takes ${runtime.inputDtype} input but its manifest says ${input.dtype}: fix input.dtype in the manifest.`,
    );
  }
  if (runtime.outputSize !== resolved.labels.length) {
    throw new ModelLoadError(
      `Model "${name}" outputs ${runtime.outputSize} scores but its manifest has ${resolved.labels.length} labels: the labels do not belong to this model.`,
    );
  }
}
