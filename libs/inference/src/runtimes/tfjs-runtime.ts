import type { GraphModel } from '@tensorflow/tfjs-converter';
import type * as TfCore from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { ModelLoadError } from '../manifest/model-load-error';
import type { ResolvedModel } from '../manifest/resolved-model';
import { selectTfjsBackend, type TfjsBackendName } from './tfjs-backend';
import { readTfjsArtifacts } from './tfjs-file-io';
import type { ModelInput, ModelRuntime } from './model-runtime';

type TfModel = LayersModel | GraphModel;

/** TF.js layers and graph models on the best backend available (tfjs-node, WASM or pure JS). */
export class TfjsRuntime implements ModelRuntime {
  readonly engine = 'tfjs';
  readonly inputDtype = 'float32';

  private constructor(
    private readonly tf: typeof TfCore,
    private readonly model: TfModel,
    readonly backend: TfjsBackendName,
    readonly inputShape: readonly number[],
    readonly outputSize: number,
  ) {}

  static async load(resolved: ResolvedModel): Promise<TfjsRuntime> {
    const { tf, backend } = await selectTfjsBackend();
    const handler = tf.io.fromMemory(await readTfjsArtifacts(resolved));
    let model: TfModel;
    try {
      if (resolved.manifest.format === 'tfjs-graph') {
        const { loadGraphModel } = await import('@tensorflow/tfjs-converter');
        model = await loadGraphModel(handler);
      } else {
        const { loadLayersModel } = await import('@tensorflow/tfjs-layers');
        model = await loadLayersModel(handler);
      }
    } catch (error) {
      throw new ModelLoadError(`TF.js could not load ${resolved.entryPath}: ${(error as Error).message}.`, {
        cause: error,
      });
    }
    return TfjsRuntime.fromModel(tf, backend, model);
  }

  /** Serves a model already built on the selected backend (e.g. a Keras .h5 rebuilt in TF.js layers). */
  static fromModel(tf: typeof TfCore, backend: TfjsBackendName, model: TfModel): TfjsRuntime {
    const inputShape = (model.inputs[0].shape ?? []).map((dim) => dim ?? -1);
    const outputShape = (model.outputs[0].shape ?? []).map((dim) => dim ?? -1);
    return new TfjsRuntime(tf, model, backend, inputShape, outputShape[outputShape.length - 1]);
  }

  async run(input: ModelInput): Promise<Float32Array> {
    const tensor = this.tf.tensor(input.data, input.shape, 'float32');
    let output: TfCore.Tensor | undefined;
    try {
      const result = this.model.predict(tensor);
      output = Array.isArray(result) ? result[0] : (result as TfCore.Tensor);
      return Float32Array.from(await output.data());
    } finally {
      tensor.dispose();
      output?.dispose();
    }
  }

  dispose(): void {
    this.model.dispose();
  }
}
