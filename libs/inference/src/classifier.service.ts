import { Injectable } from '@nestjs/common';
import { problem } from '@app/problem';
import type { ResolvedModel } from './manifest/resolved-model';
import type { ModelInputSpec, ModelMonitoringSpec } from './manifest/model-manifest';
import type { ModelSelector } from './manifest/model-location';
import { ModelRegistry, type VersionRole } from './registry/model-registry';
import { NonFiniteOutputError, toProbabilities, topK } from './processing/probabilities';
import type { ModelInput } from './runtimes/model-runtime';
import { toModelInput, type RgbImage } from './processing/to-model-input';
import type { Lane } from './workers/admission-queue';
import type { InferenceReply, InferenceTask } from './workers/image-inference';
import { postprocessTraced, runTraced, type TaskRunner } from './inference-tracing';

export interface ClassPrediction {
  index: number;
  label: string;
  displayName: string;
  confidence: number;
}

export interface Classification {
  model: { name: string; version: string };
  /** The top k classes, most likely first. */
  predictions: ClassPrediction[];
  /** Every class's probability, in label order. */
  probabilities: Float64Array;
  inferenceMs: number;
}

/** A classified image: the top-k classes, what was decoded, and where the time went. */
export interface ImageClassification extends Classification {
  image: NonNullable<InferenceReply['image']>;
  decodeMs: number;
  /** Time waiting for a free worker. */
  queueMs: number;
  /** The resized pixels the model saw, when asked for (`keepModelInput`). */
  modelInput?: InferenceReply['modelInput'];
}

/** A classified tensor: the classes, and the time it waited for a free worker. */
export interface TensorClassification extends Classification {
  queueMs: number;
}

export interface ClassifyImageOptions {
  /** Also return the resized RGB input (for showing it; off by default, it costs a copy). */
  keepModelInput?: boolean;
  /** The admission queue's lane: `interactive` (the default) or `background` (bulk jobs, shadow traffic). */
  lane?: Lane;
}

/**
 * One request's hold on a served model (ClassifierService.lease): every image of the request is classified by
 * the same version, which stays loaded until `release()`, even if a reload swaps in another meanwhile.
 */
export interface ClassifierLease {
  readonly model: { name: string; version: string };
  /** Whether the lease holds the model's stable version or a rollout's candidate. */
  readonly role: VersionRole;
  readonly labels: readonly string[];
  readonly inputSpec: ModelInputSpec;
  /** The manifest's `monitoring` block (empty when it has none). */
  readonly monitoring: ModelMonitoringSpec;
  classifyImage(
    bytes: Uint8Array,
    k: number,
    signal?: AbortSignal,
    options?: ClassifyImageOptions,
  ): Promise<ImageClassification>;
  classifyTensor(input: ModelInput, k: number, signal?: AbortSignal): Promise<TensorClassification>;
  /**
   * Every class's probability for pixels already at the model's input size (an explanation's masked variants),
   * run as a tensor task in `lane` (the background lane unless told).
   */
  probabilitiesOf(image: RgbImage, options?: { signal?: AbortSignal; lane?: Lane }): Promise<Float64Array>;
  release(): void;
}

/** Classifies images with the ready model: decode, model input and inference on a worker; probabilities, top-k here. */
@Injectable()
export class ClassifierService {
  constructor(private readonly models: ModelRegistry) {}

  /**
   * Holds the model `model` selects for one request (404 for an unknown model or version, 503 while not ready).
   * During a canary, `routingKey` (asked for only then) decides between the stable version and the candidate.
   */
  lease(model?: ModelSelector, routingKey?: () => string): ClassifierLease {
    return this.toLease(this.models.acquire(model, routingKey));
  }

  /**
   * As `lease`, for a model that may first need loading (MODEL_STORE_MAX_LOADED): waits for it up to
   * MODEL_LOAD_WAIT_SECONDS, else a 503 `model_loading`. Every request path uses this one.
   */
  async leaseLoaded(model?: ModelSelector, routingKey?: () => string): Promise<ClassifierLease> {
    return this.toLease(await this.models.acquireLoaded(model, routingKey));
  }

  private toLease(held: ReturnType<ModelRegistry['acquire']>): ClassifierLease {
    const { resolved, inference, runtime } = held.model;
    const attributes = {
      'food_vision.model.name': resolved.manifest.name,
      'food_vision.model.version': resolved.manifest.version,
      'food_vision.engine': runtime.engine,
      'food_vision.backend': runtime.backend,
    };
    const runner =
      (signal: AbortSignal | undefined, lane: Lane = 'interactive'): TaskRunner =>
      (task, onStart) =>
        inference.run(task, { signal, onStart, lane });
    return {
      model: { name: resolved.manifest.name, version: resolved.manifest.version },
      role: held.role,
      labels: resolved.labels,
      inputSpec: resolved.manifest.input,
      monitoring: resolved.manifest.monitoring ?? {},
      classifyImage: async (bytes, k, signal, { keepModelInput = false, lane } = {}) => {
        const submitted = performance.now();
        const task: InferenceTask = { kind: 'image', bytes, keepModelInput };
        const reply = await runTraced(task, runner(signal, lane), attributes);
        const queueMs = Math.max(0, performance.now() - submitted - reply.decodeMs - reply.inferenceMs);
        return {
          ...postprocessTraced(attributes, () =>
            this.toClassification(resolved, reply.scores, k, reply.inferenceMs),
          ),
          image: reply.image!,
          decodeMs: reply.decodeMs,
          queueMs,
          ...(reply.modelInput ? { modelInput: reply.modelInput } : {}),
        };
      },
      classifyTensor: async (input, k, signal) => {
        const submitted = performance.now();
        const reply = await runTraced({ kind: 'tensor', input }, runner(signal), attributes);
        const queueMs = Math.max(0, performance.now() - submitted - reply.inferenceMs);
        const classification = postprocessTraced(attributes, () =>
          this.toClassification(resolved, reply.scores, k, reply.inferenceMs),
        );
        return { ...classification, queueMs };
      },
      probabilitiesOf: async (image, { signal, lane = 'background' } = {}) => {
        const input = toModelInput(image, resolved.manifest.input);
        const reply = await runTraced({ kind: 'tensor', input }, runner(signal, lane), attributes);
        return this.probabilities(resolved, reply.scores);
      },
      release: () => held.release(),
    };
  }

  private probabilities(resolved: ResolvedModel, scores: Float32Array): Float64Array {
    try {
      return toProbabilities(scores, resolved.manifest.output.kind);
    } catch (error) {
      if (error instanceof NonFiniteOutputError) throw problem('internal_error', error.message);
      throw error;
    }
  }

  private toClassification(
    resolved: ResolvedModel,
    scores: Float32Array,
    k: number,
    inferenceMs: number,
  ): Classification {
    const probabilities = this.probabilities(resolved, scores);
    const predictions = topK(probabilities, k).map((index) => ({
      index,
      label: resolved.labels[index],
      displayName: resolved.displayNames[index],
      confidence: probabilities[index],
    }));
    return {
      model: { name: resolved.manifest.name, version: resolved.manifest.version },
      predictions,
      probabilities,
      inferenceMs,
    };
  }
}
