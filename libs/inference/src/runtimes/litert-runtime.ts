import { readFile } from 'node:fs/promises';
import { ModelLoadError } from '../manifest/model-load-error';
import type { ResolvedModel } from '../manifest/resolved-model';
import { loadLiteRtForNode } from './litert-node-loader';
import type { ModelInput, ModelRuntime } from './model-runtime';
import { fixDynamicBatchDimension } from './tflite-batch-dimension';

type LiteRtModule = Awaited<ReturnType<typeof loadLiteRtForNode>>;
type CompiledModel = Awaited<ReturnType<LiteRtModule['loadAndCompile']>>;

/** TFLite models on LiteRT.js (WASM, XNNPACK CPU kernels). */
export class LiteRtRuntime implements ModelRuntime {
  readonly engine = 'litert';
  readonly backend = 'wasm-xnnpack';

  private constructor(
    private readonly liteRt: LiteRtModule,
    private readonly model: CompiledModel,
    readonly inputShape: readonly number[],
    readonly inputDtype: 'uint8' | 'float32',
    readonly outputSize: number,
  ) {}

  static async load(resolved: ResolvedModel): Promise<LiteRtRuntime> {
    const liteRt = await loadLiteRtForNode();
    let bytes: Uint8Array;
    try {
      bytes = fixDynamicBatchDimension(await readFile(resolved.entryPath)).bytes;
    } catch (error) {
      throw new ModelLoadError(
        `${resolved.entryPath} is not a readable .tflite flatbuffer (${(error as Error).message}).`,
        {
          cause: error,
        },
      );
    }
    let model: CompiledModel;
    try {
      model = await liteRt.loadAndCompile(bytes, { accelerator: 'wasm' });
    } catch (error) {
      throw new ModelLoadError(
        `LiteRT could not load ${resolved.entryPath} (${(error as Error).message}): is it a valid .tflite file?`,
        { cause: error },
      );
    }
    const inputs = model.getInputDetails();
    const outputs = model.getOutputDetails();
    if (inputs.length !== 1 || outputs.length !== 1) {
      throw new ModelLoadError(
        `Model ${resolved.entryPath} has ${inputs.length} inputs and ${outputs.length} outputs; an image classifier needs one of each.`,
      );
    }
    const input = inputs[0];
    const dtype = input.dtype;
    if (dtype !== 'uint8' && dtype !== 'float32') {
      throw new ModelLoadError(
        `Model ${resolved.entryPath} takes ${dtype} input; only uint8 and float32 are supported.`,
      );
    }
    const outputShape = Array.from(outputs[0].shape);
    return new LiteRtRuntime(
      liteRt,
      model,
      Array.from(input.shape),
      dtype,
      outputShape[outputShape.length - 1],
    );
  }

  async run(input: ModelInput): Promise<Float32Array> {
    const tensor = new this.liteRt.Tensor(input.data, input.shape);
    try {
      const outputs = await this.model.run([tensor]);
      try {
        return Float32Array.from(outputs[0].toTypedArray() as Float32Array);
      } finally {
        for (const output of outputs) output.delete();
      }
    } finally {
      tensor.delete();
    }
  }

  dispose(): void {
    this.model.delete();
  }
}
