import type { Attributes } from '@opentelemetry/api';
import { ImageDecoder, type DecodedImage, type DecodeTiming } from '@app/imaging';
import type { StageTime } from '@app/telemetry';
import { DEFAULT_RESIZE_FIDELITY, type ModelInputSpec } from '../manifest/model-manifest';
import type { ResolvedModel } from '../manifest/resolved-model';
import { toModelInput, type RgbImage } from '../processing/to-model-input';
import { checkRuntimeMatchesManifest, createRuntime, type RuntimeOptions } from '../runtimes/create-runtime';
import type { ModelInput, ModelRuntime, RuntimeInfo } from '../runtimes/model-runtime';
import { StageClock } from './stage-clock';

export interface ImageInferenceOptions {
  runtime: RuntimeOptions;
  /** Largest image decoded, in pixels (refused from the header, before decoding). */
  maxPixels: number;
  /** Run a blank image through the model before reporting ready. */
  warmup: boolean;
}

export interface InferenceInfo extends RuntimeInfo {
  loadMs: number;
  warmupMs: number;
  /** What decodes JPEG photos: libjpeg-turbo when the system has libturbojpeg, else libvips. */
  jpegDecoder: ImageDecoder['jpegDecoder'];
}

/**
 * An image file to decode and classify (`keepModelInput`: also return the resized pixels the model saw), or a
 * tensor already in the model's input layout.
 */
export type InferenceTask = (
  { kind: 'image'; bytes: Uint8Array; keepModelInput?: boolean } | { kind: 'tensor'; input: ModelInput }
) & {
  /** The span this task runs under (W3C traceparent), when its request is traced: the reply then has `stages`. */
  traceparent?: string;
};

/** What one task gave: the raw scores (probabilities are computed by the caller) and what was decoded. */
export interface InferenceReply {
  scores: Float32Array;
  /** Absent for a tensor task. */
  image?: Pick<DecodedImage, 'format' | 'sourceWidth' | 'sourceHeight'>;
  /** The resized RGB pixels before scaling, when the task asked for them. */
  modelInput?: RgbImage;
  decodeMs: number;
  inferenceMs: number;
  /** Each step's wall-clock start and end on the worker, for a traced task (`traceparent`). */
  stages?: StageTime[];
}

/**
 * Image bytes → scores in one thread: decode and resize (libs/imaging: libjpeg-turbo for JPEG, libvips for the rest),
 * the manifest's preprocessing, the model.
 * Each inference worker holds one; with INFERENCE_WORKERS=0 the main thread does.
 */
export class ImageInference {
  /**
   * Float model inputs no task is using: one per task in flight at most, reused so that each image does not
   * allocate (and V8 then collect) a fresh 0.6 MB tensor. An engine reads its input only while `run` is pending.
   */
  private readonly freeInputs: Array<Float32Array<ArrayBuffer>> = [];

  private constructor(
    private readonly resolved: ResolvedModel,
    private readonly runtime: ModelRuntime,
    private readonly decoder: ImageDecoder,
    readonly info: InferenceInfo,
  ) {}

  static async open(resolved: ResolvedModel, options: ImageInferenceOptions): Promise<ImageInference> {
    const started = performance.now();
    const runtime = await createRuntime(resolved, options.runtime);
    try {
      checkRuntimeMatchesManifest(runtime, resolved);
    } catch (error) {
      runtime.dispose();
      throw error;
    }
    const loadMs = performance.now() - started;
    let warmupMs = 0;
    if (options.warmup) {
      const warmStarted = performance.now();
      const { width, height } = resolved.manifest.input;
      const blank = { data: new Uint8Array(width * height * 3).fill(128), width, height };
      await runtime.run(toModelInput(blank, resolved.manifest.input));
      warmupMs = performance.now() - warmStarted;
    }
    const decoder = new ImageDecoder({ maxPixels: options.maxPixels });
    const info = {
      engine: runtime.engine,
      backend: runtime.backend,
      loadMs,
      warmupMs,
      jpegDecoder: decoder.jpegDecoder,
    };
    return new ImageInference(resolved, runtime, decoder, info);
  }

  private get input(): ModelInputSpec {
    return this.resolved.manifest.input;
  }

  async run(task: InferenceTask): Promise<InferenceReply> {
    const clock = new StageClock();
    const reply =
      task.kind === 'image'
        ? await this.infer(task.bytes, task.keepModelInput, clock)
        : await this.inferTensor(task.input, clock);
    return task.traceparent === undefined
      ? reply
      : { ...reply, stages: clock.stages(this.stageAttributes(reply)) };
  }

  async inferTensor(input: ModelInput, clock = new StageClock()): Promise<InferenceReply> {
    const started = clock.mark('start');
    const scores = await this.runtime.run(input);
    return { scores, decodeMs: 0, inferenceMs: clock.mark('model.inference') - started };
  }

  async infer(bytes: Uint8Array, keepModelInput = false, clock = new StageClock()): Promise<InferenceReply> {
    const started = clock.mark('start');
    const { width, height, resize } = this.input;
    const buffer = Buffer.isBuffer(bytes)
      ? bytes
      : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const timing: DecodeTiming = {};
    const image = await this.decoder.decode(
      buffer,
      {
        width,
        height,
        method: resize.method,
        fit: resize.fit,
        fidelity: resize.fidelity ?? DEFAULT_RESIZE_FIDELITY,
      },
      timing,
    );
    const decoded = clock.mark('image.resize');
    clock.insertBefore('image.resize', 'image.decode', timing.pixelsAt ?? decoded);
    const input = toModelInput(image, this.input, this.freeInputs.pop());
    clock.mark('model.preprocess');
    let scores: Float32Array;
    try {
      scores = await this.runtime.run(input);
    } finally {
      if (input.data instanceof Float32Array) this.freeInputs.push(input.data);
    }
    clock.mark('model.inference');
    return {
      scores,
      image: { format: image.format, sourceWidth: image.sourceWidth, sourceHeight: image.sourceHeight },
      // A copy: the reply owns (and a worker transfers) these pixels, whatever the decoder does with its buffers.
      ...(keepModelInput ? { modelInput: { data: image.data.slice(), width, height } } : {}),
      decodeMs: decoded - started,
      inferenceMs: performance.now() - decoded,
    };
  }

  /** What a trace shows on each stage: the model and engine, and the image that was decoded. */
  private stageAttributes(reply: InferenceReply): Attributes {
    const { manifest } = this.resolved;
    return {
      'food_vision.model.name': manifest.name,
      'food_vision.model.version': manifest.version,
      'food_vision.engine': this.info.engine,
      'food_vision.backend': this.info.backend,
      ...(reply.image
        ? {
            'food_vision.image.format': reply.image.format,
            'food_vision.image.width': reply.image.sourceWidth,
            'food_vision.image.height': reply.image.sourceHeight,
          }
        : {}),
    };
  }

  dispose(): void {
    this.runtime.dispose();
  }
}
