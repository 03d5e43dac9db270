import { Logger } from '@nestjs/common';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { ModelLoadError } from '../manifest/model-load-error';
import type { ResolvedModel } from '../manifest/resolved-model';
import type { ModelRuntime } from './model-runtime';
import { selectTfjsBackend, type TfjsEngine } from './tfjs-backend';
import { readTfjsArtifacts } from './tfjs-file-io';
import { TfjsRuntime } from './tfjs-runtime';
import { convertLayersModelToOnnx } from '@app/keras';
import { loadOnnxRuntime } from './onnxruntime-loader';
import { OnnxRuntime } from './onnx-runtime';
import { reportLoadStage } from '../common/load-stage';

/** `onnxruntime`: convert float models to ONNX when possible (default); `tfjs`: always run them on TF.js. */
export type FloatModelEngine = 'onnxruntime' | 'tfjs';

export interface FloatModelOptions {
  floatEngine: FloatModelEngine;
  /** Intra-op threads for onnxruntime. */
  threads: number;
}

const logger = new Logger('FloatModels');

/** Reads a TF.js layers model (model.json + verified shards) on the selected tfjs backend. */
export async function loadTfjsLayersModel(
  resolved: ResolvedModel,
): Promise<{ engine: TfjsEngine; model: LayersModel }> {
  const engine = await selectTfjsBackend();
  const handler = engine.tf.io.fromMemory(await readTfjsArtifacts(resolved));
  try {
    const { loadLayersModel } = await import('@tensorflow/tfjs-layers');
    return { engine, model: await loadLayersModel(handler) };
  } catch (error) {
    throw new ModelLoadError(`TF.js could not load ${resolved.entryPath}: ${(error as Error).message}.`, {
      cause: error,
    });
  }
}

/**
 * Serves a Keras/TF.js layers model on the fastest engine available: converted at load to an ONNX graph on
 * onnxruntime (about 8× faster than tfjs-WASM here), or on tfjs when onnxruntime-node is missing, a layer has
 * no exact ONNX equivalent, or `floatEngine` is `tfjs`. The reason for staying on tfjs is logged.
 */
export async function serveLayersModel(
  engine: TfjsEngine,
  model: LayersModel,
  source: string,
  options: FloatModelOptions,
): Promise<ModelRuntime> {
  if (options.floatEngine === 'onnxruntime') {
    const { reason } = loadOnnxRuntime();
    if (reason) {
      logger.warn(`${source} runs on tfjs: ${reason}.`);
    } else {
      try {
        reportLoadStage('converting the model to ONNX for onnxruntime');
        const { bytes } = convertLayersModelToOnnx(model);
        const runtime = await OnnxRuntime.load(bytes, `${source} (converted to ONNX)`, {
          threads: options.threads,
        });
        model.dispose();
        return runtime;
      } catch (error) {
        logger.warn(`${source} runs on tfjs, not onnxruntime: ${(error as Error).message}`);
      }
    }
  }
  return TfjsRuntime.fromModel(engine.tf, engine.backend, model);
}
