import { Injectable, Optional } from '@nestjs/common';
import {
  ClassifierService,
  type ClassifierLease,
  type Classification,
  type ModelSelector,
  type RgbImage,
} from '@app/inference';
import { ImageSourceService, type ImageSource } from '@app/image-fetch';
import type { DecodedImage } from '@app/imaging';
import { Registry } from 'prom-client';
import { PredictionMetrics } from '../observability/prediction-metrics';
import { resolveTopK } from './top-k';

export interface Prediction {
  classification: Classification;
  image: Pick<DecodedImage, 'format' | 'sourceWidth' | 'sourceHeight'>;
  timings: { fetchMs: number; decodeMs: number; inferenceMs: number; totalMs: number };
  /** The resized pixels the model saw, when `withModelInput` asked for them. */
  modelInput?: RgbImage;
}

/** One prediction end to end: image bytes from the source, then decode, resize and classify on an inference worker. */
@Injectable()
export class PredictionService {
  constructor(
    private readonly sources: ImageSourceService,
    private readonly classifier: ClassifierService,
    @Optional() private readonly metrics: PredictionMetrics = new PredictionMetrics(new Registry()),
  ) {}

  /** `requestedTopK` undefined: the default (5), or every class of a model with fewer. */
  async predict(
    source: ImageSource,
    requestedTopK: number | undefined,
    signal?: AbortSignal,
    model?: ModelSelector,
    options: { withModelInput?: boolean } = {},
  ): Promise<Prediction> {
    // Refuse before downloading anything when no model can answer.
    const lease = this.classifier.lease(model);
    try {
      return await this.predictWith(
        lease,
        source,
        resolveTopK(requestedTopK, lease.labels.length),
        signal,
        options,
      );
    } finally {
      lease.release();
    }
  }

  /** One photo, classified by a model the caller holds (a batch holds one for all its items). */
  async predictWith(
    lease: ClassifierLease,
    source: ImageSource,
    topK: number,
    signal?: AbortSignal,
    { withModelInput = false } = {},
  ): Promise<Prediction> {
    const started = performance.now();
    const bytes = await this.metrics.timeImageFetch(source.kind, () => this.sources.bytes(source, signal));
    const fetched = performance.now();
    const result = await this.metrics.trackInference(() =>
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
