import { Injectable } from '@nestjs/common';
import { isSpanContextValid, trace, TraceFlags } from '@opentelemetry/api';
import { topK, topTwo, type Classification } from '@app/inference';
import { abstentionOf } from './abstention';
import { QualityMetrics, type ImageFacts } from './metrics/quality-metrics';
import { PredictionFeed, type Abstention, type PredictionRecord } from './prediction-feed';
import type { Protocol } from './protocol';

/** One classified image and what is known of its request. */
export interface ObservedImage {
  protocol: Protocol;
  requestId?: string;
  classification: Classification;
  /** The model's labels, in the order of `classification.probabilities`. */
  labels: readonly string[];
  facts: ImageFacts;
  /** The photo as sent (absent for a tensor). */
  width?: number;
  height?: number;
  /** The image file's bytes (absent for a tensor). */
  bytes?: Uint8Array;
  timings: PredictionRecord['timings'];
  /** The min_confidence that applies (the request's or the model's); none: the answer always stands. */
  minConfidence?: number;
}

/** Classes a record carries when the answer itself ranked none. */
const RECORD_TOP_K = 5;

/** The sampled trace the image was classified in, if any. */
function sampledTraceId(): string | undefined {
  const context = trace.getActiveSpan()?.spanContext();
  return context && isSpanContextValid(context) && (context.traceFlags & TraceFlags.SAMPLED) !== 0
    ? context.traceId
    : undefined;
}

/**
 * Where every classified image, of every protocol, is judged and reported once: whether the answer abstains, the
 * quality metrics, and the prediction feed (the prediction log, the /monitor history).
 */
@Injectable()
export class PredictionObserver {
  constructor(
    private readonly quality: QualityMetrics,
    private readonly feed: PredictionFeed,
  ) {}

  /** The answer's top k; for /v2 and gRPC, which rank nothing unless asked, the top five ranked here. */
  private topOf(classification: Classification, labels: readonly string[]): PredictionRecord['top'] {
    if (classification.predictions.length > 0)
      return classification.predictions.map(({ label, confidence }) => ({ label, confidence }));
    const { probabilities } = classification;
    return topK(probabilities, RECORD_TOP_K).map((index) => ({
      label: labels[index],
      confidence: probabilities[index],
    }));
  }

  /** Records the image; the abstention, when its answer must be withheld. */
  observe(image: ObservedImage): Abstention | undefined {
    const { classification, labels } = image;
    const { index, first, second } = topTwo(classification.probabilities);
    const label = labels[index];
    let top: PredictionRecord['top'] | undefined;
    const topOnce = () => (top ??= this.topOf(classification, labels));
    const abstention = abstentionOf(label, first, image.minConfidence, topOnce);
    this.quality.observe(image.protocol, classification.model, { label, first, second }, image.facts, {
      abstained: abstention !== undefined,
    });
    if (this.feed.watched) {
      const traceId = sampledTraceId();
      this.feed.publish({
        at: Date.now(),
        protocol: image.protocol,
        ...(image.requestId !== undefined ? { requestId: image.requestId } : {}),
        ...(traceId !== undefined ? { traceId } : {}),
        model: classification.model,
        label,
        confidence: first,
        margin: first - second,
        top: topOnce(),
        ...(abstention ? { abstention } : {}),
        image: {
          ...image.facts,
          ...(image.width !== undefined ? { width: image.width, height: image.height } : {}),
          ...(image.bytes ? { bytes: image.bytes } : {}),
        },
        timings: image.timings,
      });
    }
    return abstention;
  }
}
