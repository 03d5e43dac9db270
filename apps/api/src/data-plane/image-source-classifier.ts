import { Injectable } from '@nestjs/common';
import type { ClassifierLease, ImageClassification, Lane } from '@app/inference';
import { ImageSourceService, type ImageSource } from '@app/image-fetch';
import { PredictionMetrics } from './metrics/prediction-metrics';
import { sizeBucket, type ImageOrigin } from './metrics/quality-metrics';
import type { Abstention } from './prediction-feed';
import { PredictionObserver } from './prediction-observer';
import { ComparisonMirror } from './rollout/comparison-mirror';
import type { Protocol } from './protocol';

/** An uploaded file and an image file's bytes over /v2 or gRPC both arrive as bytes. */
const ORIGINS: Record<ImageSource['kind'], ImageOrigin> = { url: 'url', base64: 'base64', bytes: 'upload' };

export interface ClassifiedSource {
  classification: ImageClassification;
  /** Time getting the bytes (download, base64 decode). */
  fetchMs: number;
  /** Set when the answer is withheld (its top-1 probability is under the min_confidence in force). */
  abstention?: Abstention;
}

export interface ClassifySourceOptions {
  protocol: Protocol;
  signal?: AbortSignal;
  /** Also return the resized pixels the model saw. */
  keepModelInput?: boolean;
  requestId?: string;
  /** The admission queue's lane; `background` waits behind every interactive image. */
  lane?: Lane;
  /** The min_confidence in force (the request's or the model's); none: the answer always stands. */
  minConfidence?: number;
}

/**
 * One image, from wherever it came, classified by the model a request holds: the bytes from the source, then the
 * decode and model run on a worker, each step metered by protocol. Every front-end's images take this path.
 */
@Injectable()
export class ImageSourceClassifier {
  constructor(
    private readonly sources: ImageSourceService,
    private readonly metrics: PredictionMetrics,
    private readonly observer: PredictionObserver,
    private readonly mirror: ComparisonMirror,
  ) {}

  async classify(
    lease: ClassifierLease,
    source: ImageSource,
    topK: number,
    { protocol, signal, keepModelInput = false, requestId, minConfidence, lane }: ClassifySourceOptions,
  ): Promise<ClassifiedSource> {
    const started = performance.now();
    const bytes = await this.metrics.timeImageFetch(protocol, source.kind, () =>
      this.sources.bytes(source, signal),
    );
    const fetchMs = performance.now() - started;
    let classification: ImageClassification;
    try {
      classification = await this.metrics.trackInference(protocol, () =>
        lease.classifyImage(bytes, topK, signal, { keepModelInput, ...(lane ? { lane } : {}) }),
      );
    } catch (error) {
      this.mirror.answered(lease, bytes, undefined, error);
      throw error;
    }
    this.mirror.answered(lease, bytes, classification);
    const { format, sourceWidth, sourceHeight } = classification.image;
    const abstention = this.observer.observe({
      protocol,
      requestId,
      classification,
      labels: lease.labels,
      facts: { origin: ORIGINS[source.kind], format, size: sizeBucket(sourceWidth, sourceHeight) },
      width: sourceWidth,
      height: sourceHeight,
      bytes,
      timings: {
        fetchMs,
        decodeMs: classification.decodeMs,
        queueMs: classification.queueMs,
        inferenceMs: classification.inferenceMs,
      },
      minConfidence,
    });
    return { classification, fetchMs, ...(abstention ? { abstention } : {}) };
  }
}
