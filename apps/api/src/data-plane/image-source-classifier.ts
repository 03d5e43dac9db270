import { Injectable } from '@nestjs/common';
import type { ClassifierLease, ImageClassification } from '@app/inference';
import { ImageSourceService, type ImageSource } from '@app/image-fetch';
import { PredictionMetrics } from './metrics/prediction-metrics';
import { QualityMetrics, sizeBucket, type ImageOrigin } from './metrics/quality-metrics';
import type { Protocol } from './protocol';

/** An uploaded file and an image file's bytes over /v2 or gRPC both arrive as bytes. */
const ORIGINS: Record<ImageSource['kind'], ImageOrigin> = { url: 'url', base64: 'base64', bytes: 'upload' };

export interface ClassifiedSource {
  classification: ImageClassification;
  /** Time getting the bytes (download, base64 decode). */
  fetchMs: number;
}

export interface ClassifySourceOptions {
  protocol: Protocol;
  signal?: AbortSignal;
  /** Also return the resized pixels the model saw. */
  keepModelInput?: boolean;
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
    private readonly quality: QualityMetrics,
  ) {}

  async classify(
    lease: ClassifierLease,
    source: ImageSource,
    topK: number,
    { protocol, signal, keepModelInput = false }: ClassifySourceOptions,
  ): Promise<ClassifiedSource> {
    const started = performance.now();
    const bytes = await this.metrics.timeImageFetch(protocol, source.kind, () =>
      this.sources.bytes(source, signal),
    );
    const fetchMs = performance.now() - started;
    const classification = await this.metrics.trackInference(protocol, () =>
      lease.classifyImage(bytes, topK, signal, { keepModelInput }),
    );
    const { format, sourceWidth, sourceHeight } = classification.image;
    this.quality.observe(protocol, classification, lease.labels, {
      origin: ORIGINS[source.kind],
      format,
      size: sizeBucket(sourceWidth, sourceHeight),
    });
    return { classification, fetchMs };
  }
}
