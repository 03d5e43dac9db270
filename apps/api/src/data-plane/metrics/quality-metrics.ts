import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Counter, Histogram, Registry } from 'prom-client';
import type { EnvironmentVariables } from '../../config/environment';
import { METRIC_PREFIX } from '../../observability/metrics-registry';
import type { Protocol } from '../protocol';
import { DriftMonitor } from './drift-monitor';

/** Probability buckets: fine near the top, where a confident model lives, and around the usual thresholds. */
const PROBABILITY_BUCKETS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1];

/** How an image reached the model: downloaded, uploaded as a file (or raw bytes), base64 in JSON, or a tensor. */
export type ImageOrigin = 'url' | 'upload' | 'base64' | 'tensor';

/** The longer side of the photo as sent, in buckets a dashboard can show. */
export type SizeBucket = 'under_224' | 'under_1024' | 'under_4096' | '4096_and_over' | 'tensor';

export function sizeBucket(width: number, height: number): SizeBucket {
  const side = Math.max(width, height);
  return side < 224 ? 'under_224' : side < 1024 ? 'under_1024' : side < 4096 ? 'under_4096' : '4096_and_over';
}

/** What was classified: the image's format and size bucket, and where it came from. */
export interface ImageFacts {
  origin: ImageOrigin;
  format: string;
  size: SizeBucket;
}

/**
 * What the answers look like, per model and version, for every protocol: the top-1 confidence and the margin to the
 * second class (histograms), the class predicted (counter), answers under QUALITY_LOW_CONFIDENCE, and the images'
 * format, size and origin. A model meeting photos it was not trained on shows here first: the confidence falls, the
 * margin narrows, the class mix tilts.
 */
@Injectable()
export class QualityMetrics {
  private readonly confidence: Histogram<'model' | 'version' | 'protocol'>;
  private readonly margin: Histogram<'model' | 'version' | 'protocol'>;
  private readonly classes: Counter<'model' | 'version' | 'class'>;
  private readonly lowConfidence: Counter<'model' | 'version' | 'protocol'>;
  private readonly images: Counter<'model' | 'version' | 'origin' | 'format' | 'size'>;
  private readonly abstentions: Counter<'model' | 'version' | 'protocol'>;
  private readonly threshold: number;

  constructor(
    registry: Registry,
    config: ConfigService<EnvironmentVariables, true>,
    private readonly drift: DriftMonitor,
  ) {
    const registers = [registry];
    this.threshold = config.get('QUALITY_LOW_CONFIDENCE', { infer: true });
    this.confidence = new Histogram({
      name: `${METRIC_PREFIX}prediction_confidence`,
      help: 'Top-1 probability of each classified image, by model, version and protocol.',
      labelNames: ['model', 'version', 'protocol'],
      buckets: PROBABILITY_BUCKETS,
      registers,
    });
    this.margin = new Histogram({
      name: `${METRIC_PREFIX}prediction_margin`,
      help: 'Top-1 minus top-2 probability of each classified image (how clearly the model chose), by model, version and protocol.',
      labelNames: ['model', 'version', 'protocol'],
      buckets: PROBABILITY_BUCKETS,
      registers,
    });
    this.classes = new Counter({
      name: `${METRIC_PREFIX}predicted_class_total`,
      help: 'Classified images by their top-1 class (the class mix), by model and version.',
      labelNames: ['model', 'version', 'class'],
      registers,
    });
    this.lowConfidence = new Counter({
      name: `${METRIC_PREFIX}low_confidence_predictions_total`,
      help: `Classified images whose top-1 probability is under QUALITY_LOW_CONFIDENCE (${this.threshold}), by model, version and protocol; divide by the confidence histogram's count for the rate.`,
      labelNames: ['model', 'version', 'protocol'],
      registers,
    });
    this.images = new Counter({
      name: `${METRIC_PREFIX}classified_images_total`,
      help: 'Classified images by origin (url, upload, base64, tensor), format and size bucket (longer side), by model and version.',
      labelNames: ['model', 'version', 'origin', 'format', 'size'],
      registers,
    });
    this.abstentions = new Counter({
      name: `${METRIC_PREFIX}abstentions_total`,
      help: 'Answers withheld because the top-1 probability was under the min_confidence in force (the model’s or the request’s), by model, version and protocol.',
      labelNames: ['model', 'version', 'protocol'],
      registers,
    });
  }

  /** Records one classified image: its top-1 class and probability, and the runner-up's probability. */
  observe(
    protocol: Protocol,
    { name: model, version }: { name: string; version: string },
    top: { label: string; first: number; second: number },
    facts: ImageFacts,
    { abstained }: { abstained: boolean },
  ): void {
    this.confidence.observe({ model, version, protocol }, top.first);
    this.margin.observe({ model, version, protocol }, top.first - top.second);
    this.classes.inc({ model, version, class: top.label });
    this.drift.record(model, version, top.first, top.label);
    // Incremented by 0 too, so the series exist and their rates are 0 (not absent) while nothing is low.
    this.lowConfidence.inc({ model, version, protocol }, top.first < this.threshold ? 1 : 0);
    this.abstentions.inc({ model, version, protocol }, abstained ? 1 : 0);
    this.images.inc({ model, version, ...facts });
  }
}
