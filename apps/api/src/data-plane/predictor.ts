import { Injectable } from '@nestjs/common';
import {
  ClassifierService,
  type ClassifierLease,
  type Classification,
  type Lane,
  type ModelSelector,
  type RgbImage,
} from '@app/inference';
import type { ImageSource } from '@app/image-fetch';
import type { DecodedImage } from '@app/imaging';
import { inSpan } from '@app/telemetry';
import { BATCH_CONCURRENCY } from '../common/batch-concurrency';
import { describeRequest } from './request-span';
import { mapLimited } from '../common/map-limited';
import { Explainer, type ExplainRequest, type Explanation } from './explainer';
import { minConfidenceFor } from './abstention';
import { ImageSourceClassifier } from './image-source-classifier';
import type { Abstention } from './prediction-feed';
import { PredictionMetrics } from './metrics/prediction-metrics';
import type { Protocol } from './protocol';
import { routingKeyOf } from './rollout/routing-key';
import { resolveTopK } from './top-k';

export interface Prediction {
  classification: Classification;
  image: Pick<DecodedImage, 'format' | 'sourceWidth' | 'sourceHeight'>;
  timings: { fetchMs: number; decodeMs: number; inferenceMs: number; totalMs: number };
  /** The resized pixels the model saw, when `withModelInput` (or an explanation) asked for them. */
  modelInput?: RgbImage;
  /** Where the model looked, when `explain` asked. */
  explanation?: Explanation;
  /** Set when the answer is withheld: its top-1 probability is under the min_confidence in force. */
  abstention?: Abstention;
}

export interface PredictOptions {
  protocol: Protocol;
  /** Undefined: the default (5), or every class of a model with fewer. */
  topK?: number;
  model?: ModelSelector;
  signal?: AbortSignal;
  /** Also return the resized pixels the model saw. */
  withModelInput?: boolean;
  /** Also explain the answer (the masked runs take the background lane). */
  explain?: ExplainRequest;
  /** The request's id, for the prediction log. */
  requestId?: string;
  /** Abstain under this top-1 probability; undefined: the model's min_confidence; null: never abstain. */
  minConfidence?: number | null;
  /** The admission queue's lane: `background` for work no client is waiting on (bulk jobs). */
  lane?: Lane;
  /** The client's canary routing key (X-Routing-Key); else the image decides. */
  routingKey?: string;
}

/** An item of a batch: its image source, or the problem that says what is wrong with it (thrown). */
export type BatchItem = () => ImageSource;

/**
 * Photos in, classes out, for the /v1 and seed front-ends: image bytes from the source, then decode, resize and
 * classify on an inference worker, each step metered by protocol. A request holds one lease on its model.
 */
@Injectable()
export class Predictor {
  constructor(
    private readonly images: ImageSourceClassifier,
    private readonly classifier: ClassifierService,
    private readonly metrics: PredictionMetrics,
    private readonly explainer: Explainer,
  ) {}

  predict(source: ImageSource, options: PredictOptions): Promise<Prediction> {
    return this.withLease(
      options,
      1,
      () => options.routingKey ?? routingKeyOf(source),
      (lease, topK) => this.predictWith(lease, source, topK, options),
    );
  }

  /**
   * Every item of a batch, a few at a time, classified by one version of the model (even across a reload); one
   * settled result per item, in order. Whole-batch refusals (unknown model, not ready, top_k) are thrown first.
   */
  predictEach(
    items: readonly BatchItem[],
    options: PredictOptions,
  ): Promise<Array<PromiseSettledResult<Prediction>>> {
    // A batch is one request: one version answers all of it, chosen by the first item that has an image.
    const batchKey = () => {
      for (const item of items) {
        try {
          return routingKeyOf(item());
        } catch {
          // An item without a usable image has no key; the next one decides.
        }
      }
      return '';
    };
    return this.withLease(
      options,
      items.length,
      () => options.routingKey ?? batchKey(),
      (lease, topK) =>
        mapLimited(items, BATCH_CONCURRENCY, (item, index) =>
          inSpan('classify.item', { attributes: { 'food_vision.batch.index': index } }, () =>
            this.predictWith(lease, item(), topK, options),
          ),
        ),
    );
  }

  /**
   * One request of `images` images, metered, with the model leased first (a request no model can answer is refused
   * before anything is downloaded) and held until `work` is done.
   */
  private withLease<T>(
    options: PredictOptions,
    images: number,
    routingKey: () => string,
    work: (lease: ClassifierLease, topK: number) => Promise<T>,
  ): Promise<T> {
    return this.metrics.trackRequest(options.protocol, images, async () => {
      const lease = await this.classifier.leaseLoaded(options.model, routingKey);
      describeRequest(lease, options.protocol, images);
      try {
        return await work(lease, resolveTopK(options.topK, lease.labels.length));
      } finally {
        lease.release();
      }
    });
  }

  private async predictWith(
    lease: ClassifierLease,
    source: ImageSource,
    topK: number,
    { protocol, signal, withModelInput = false, explain, requestId, minConfidence, lane }: PredictOptions,
  ): Promise<Prediction> {
    const started = performance.now();
    const {
      classification: result,
      fetchMs,
      abstention,
    } = await this.images.classify(lease, source, topK, {
      protocol,
      signal,
      keepModelInput: withModelInput || explain !== undefined,
      requestId,
      ...(lane ? { lane } : {}),
      minConfidence: minConfidence === null ? undefined : minConfidenceFor(lease, minConfidence),
    });
    const explanation =
      explain && result.modelInput
        ? await this.explainer.explain(lease, result.modelInput, result.probabilities, explain, signal)
        : undefined;
    const { predictions, probabilities, inferenceMs } = result;
    return {
      classification: { model: result.model, predictions, probabilities, inferenceMs },
      image: result.image,
      timings: {
        fetchMs,
        decodeMs: result.decodeMs,
        inferenceMs,
        totalMs: performance.now() - started,
      },
      ...(result.modelInput ? { modelInput: result.modelInput } : {}),
      ...(explanation ? { explanation } : {}),
      ...(abstention ? { abstention } : {}),
    };
  }
}
