import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { ModelLoadError } from '../manifest/model-load-error';
import type { ModelInput, ModelRuntime } from './model-runtime';
import { loadOnnxRuntime, type OnnxRuntimeModule } from './onnxruntime-loader';

export interface OnnxRuntimeOptions {
  /** Intra-op threads per session; one per worker measured best when every core has its own worker. */
  threads: number;
}

/** NHWC → NCHW for models exported channels-first (most PyTorch exports). */
function toChannelsFirst(data: ModelInput['data'], [, height, width, channels]: ModelInput['shape']) {
  const out = new (data.constructor as Float32ArrayConstructor | Uint8ArrayConstructor)(data.length);
  const plane = height * width;
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < channels; c++) out[c * plane + p] = data[p * channels + c];
  }
  return out;
}

/** ONNX models (converted from Keras/TF.js layers, or a user's `.onnx`) on onnxruntime's CPU provider. */
export class OnnxRuntime implements ModelRuntime {
  readonly engine = 'onnxruntime';
  readonly backend = 'cpu';

  private constructor(
    private readonly ort: OnnxRuntimeModule,
    private readonly session: InferenceSession,
    readonly inputShape: readonly number[],
    readonly inputDtype: 'uint8' | 'float32',
    readonly outputSize: number,
    private readonly channelsFirst: boolean,
  ) {}

  /** Opens an ONNX model from bytes; `source` names it in errors. */
  static async load(bytes: Uint8Array, source: string, options: OnnxRuntimeOptions): Promise<OnnxRuntime> {
    const { module: ort, reason } = loadOnnxRuntime();
    if (!ort)
      throw new ModelLoadError(`${source} needs onnxruntime-node, which is not available: ${reason}.`);
    let session: InferenceSession;
    try {
      session = await ort.InferenceSession.create(bytes, {
        executionProviders: ['cpu'],
        graphOptimizationLevel: 'all',
        executionMode: 'sequential',
        intraOpNumThreads: options.threads,
        interOpNumThreads: 1,
        // Spinning threads would take cycles from the other workers sharing these cores.
        extra: { session: { intra_op: { allow_spinning: '0' } } },
      });
    } catch (error) {
      throw new ModelLoadError(
        `onnxruntime could not load ${source} (${(error as Error).message}): is it a valid ONNX model?`,
        {
          cause: error,
        },
      );
    }
    const inputs = session.inputMetadata;
    const outputs = session.outputMetadata;
    if (inputs.length !== 1 || outputs.length !== 1 || !inputs[0].isTensor || !outputs[0].isTensor) {
      await session.release();
      throw new ModelLoadError(
        `${source} has ${inputs.length} inputs and ${outputs.length} outputs; an image classifier needs one tensor of each.`,
      );
    }
    const input = inputs[0];
    const output = outputs[0];
    if (input.type !== 'float32' && input.type !== 'uint8') {
      await session.release();
      throw new ModelLoadError(`${source} takes ${input.type} input; only uint8 and float32 are supported.`);
    }
    const dims = input.shape.map((dim) => (typeof dim === 'number' && dim > 0 ? dim : -1));
    // [N, 3, H, W] with a last dimension other than 3 is channels-first; the service always sends NHWC.
    const channelsFirst = dims.length === 4 && dims[1] === 3 && dims[3] !== 3;
    const inputShape = channelsFirst ? [dims[0], dims[2], dims[3], dims[1]] : dims;
    const outputDims = output.shape;
    const outputSize = outputDims[outputDims.length - 1];
    return new OnnxRuntime(
      ort,
      session,
      inputShape,
      input.type,
      typeof outputSize === 'number' ? outputSize : -1,
      channelsFirst,
    );
  }

  async run(input: ModelInput): Promise<Float32Array> {
    const [batch, height, width, channels] = input.shape;
    const data = this.channelsFirst ? toChannelsFirst(input.data, input.shape) : input.data;
    const dims = this.channelsFirst ? [batch, channels, height, width] : [...input.shape];
    const tensor: Tensor =
      this.inputDtype === 'uint8'
        ? new this.ort.Tensor('uint8', data as Uint8Array, dims)
        : new this.ort.Tensor('float32', data as Float32Array, dims);
    const outputs = await this.session.run({ [this.session.inputNames[0]]: tensor });
    const scores = outputs[this.session.outputNames[0]];
    try {
      return Float32Array.from(scores.data as Float32Array);
    } finally {
      scores.dispose();
    }
  }

  dispose(): void {
    void this.session.release();
  }
}
