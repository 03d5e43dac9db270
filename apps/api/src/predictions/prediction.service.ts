import { Injectable, Optional } from '@nestjs/common';
import { ClassifierService, type Classification } from '@app/inference';
import { ImageDecoder, ImageSourceService, type DecodedImage, type ImageSource } from '@app/image-fetch';
import { problem } from '@app/problem';
import { Registry } from 'prom-client';
import { PredictionMetrics } from '../observability/prediction-metrics';

export interface Prediction {
  classification: Classification;
  image: Pick<DecodedImage, 'format' | 'sourceWidth' | 'sourceHeight'>;
  timings: { fetchMs: number; decodeMs: number; inferenceMs: number; totalMs: number };
}

/** One prediction end to end: image bytes from the source, decode and resize for the model, classify. */
@Injectable()
export class PredictionService {
  constructor(
    private readonly sources: ImageSourceService,
    private readonly decoder: ImageDecoder,
    private readonly classifier: ClassifierService,
    @Optional() private readonly metrics: PredictionMetrics = new PredictionMetrics(new Registry()),
  ) {}

  async predict(source: ImageSource, topK: number, signal?: AbortSignal): Promise<Prediction> {
    const started = performance.now();
    // Refuse before downloading anything when no model can answer.
    const input = this.classifier.inputSpec();
    const labelCount = this.classifier.labelCount();
    if (topK > labelCount) {
      throw problem('validation_failed', `top_k must be between 1 and ${labelCount}, the number of labels.`, {
        errors: [{ field: 'top_k', message: `top_k must not be greater than ${labelCount}` }],
      });
    }
    const bytes = await this.metrics.timeImageFetch(source.kind, () => this.sources.bytes(source, signal));
    const fetched = performance.now();
    const image = await this.decoder.decode(bytes, {
      width: input.width,
      height: input.height,
      method: input.resize.method,
      fit: input.resize.fit,
    });
    const decoded = performance.now();
    const classification = await this.metrics.trackInference(() => this.classifier.classify(image, topK));
    return {
      classification,
      image: { format: image.format, sourceWidth: image.sourceWidth, sourceHeight: image.sourceHeight },
      timings: {
        fetchMs: fetched - started,
        decodeMs: decoded - fetched,
        inferenceMs: classification.inferenceMs,
        totalMs: performance.now() - started,
      },
    };
  }
}
