import { Injectable } from '@nestjs/common';
import {
  ClassifierService,
  type ClassifierLease,
  type Classification,
  type ModelSelector,
  type RgbImage,
} from '@app/inference';
import { ImageSourceService, type ImageSource } from '@app/image-fetch';
import type { DecodedImage } from '@app/imaging';
import { BATCH_CONCURRENCY } from '../common/batch-concurrency';
import { mapLimited } from '../common/map-limited';
import { PredictionMetrics } from './metrics/prediction-metrics';
import type { Protocol } from './protocol';
import { resolveTopK } from './top-k';

export interface Prediction {
  classification: Classification;
  image: Pick<DecodedImage, 'format' | 'sourceWidth' | 'sourceHeight'>;
  timings: { fetchMs: number; decodeMs: number; inferenceMs: number; totalMs: number };
  /** The resized pixels the model saw, when `withModelInput` asked for them. */
  modelInput?: RgbImage;
}

export interface PredictOptions {
  protocol: Protocol;
  /** Undefined: the default (5), or every class of a model with fewer. */
  topK?: number;
  model?: ModelSelector;
  signal?: AbortSignal;
  /** Also return the resized pixels the model saw. */
  withModelInput?: boolean;
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
    private readonly sources: ImageSourceService,
    private readonly classifier: ClassifierService,
    private readonly metrics: PredictionMetrics,
  ) {}

  async predict(source: ImageSource, options: PredictOptions): Promise<Prediction> {
    return this.metrics.trackRequest(options.protocol, 1, async () => {
      // Refuse before downloading anything when no model can answer.
      const lease = this.classifier.lease(options.model);
      try {
        const topK = resolveTopK(options.topK, lease.labels.length);
        return await this.predictWith(lease, source, topK, options);
      } finally {
        lease.release();
      }
    });
  }

  /**
   * Every item of a batch, a few at a time, classified by one version of the model (even across a reload); one
   * settled result per item, in order. Whole-batch refusals (unknown model, not ready, top_k) are thrown first.
   */
  async predictEach(
    items: readonly BatchItem[],
    options: PredictOptions,
  ): Promise<Array<PromiseSettledResult<Prediction>>> {
    return this.metrics.trackRequest(options.protocol, items.length, async () => {
      const lease = this.classifier.lease(options.model);
      try {
        const topK = resolveTopK(options.topK, lease.labels.length);
        return await mapLimited(items, BATCH_CONCURRENCY, (item) =>
          this.predictWith(lease, item(), topK, options),
        );
      } finally {
        lease.release();
      }
    });
  }

  private async predictWith(
    lease: ClassifierLease,
    source: ImageSource,
    topK: number,
    { protocol, signal, withModelInput = false }: PredictOptions,
  ): Promise<Prediction> {
    const started = performance.now();
    const bytes = await this.metrics.timeImageFetch(protocol, source.kind, () =>
      this.sources.bytes(source, signal),
    );
    const fetched = performance.now();
    const result = await this.metrics.trackInference(protocol, () =>
      lease.classifyImage(bytes, topK, signal, { keepModelInput: withModelInput }),
    );
    const { predictions, probabilities, inferenceMs } = result;
    return {
      classification: { model: result.model, predictions, probabilities, inferenceMs },
      image: result.image,
      timings: {
        fetchMs: fetched - started,
        decodeMs: result.decodeMs,
        inferenceMs,
        totalMs: performance.now() - started,
      },
      ...(result.modelInput ? { modelInput: result.modelInput } : {}),
    };
  }
}
