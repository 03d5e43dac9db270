import { Injectable } from '@nestjs/common';
import { Counter, Histogram, Registry } from 'prom-client';
import { ProblemError } from '@app/problem';
import { LATENCY_BUCKETS, METRIC_PREFIX } from './metrics-registry';

const INFERENCE_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** Milliseconds a classification reports; queue and decode times come from the inference workers. */
export interface InferenceTimings {
  inferenceMs: number;
  queueMs?: number;
  decodeMs?: number;
}

/** How an image arrived: `url` (downloaded), `base64` (in JSON), `bytes` (uploaded). */
export type ImageSourceKind = 'url' | 'base64' | 'bytes';

/** Image fetch and inference metrics, recorded by PredictionService around each step. */
@Injectable()
export class PredictionMetrics {
  private readonly fetchDuration: Histogram<'source' | 'outcome'>;
  private readonly fetchFailures: Counter<'source' | 'code'>;
  private readonly inferenceDuration: Histogram;
  private readonly queueDuration: Histogram;
  private readonly decodeDuration: Histogram;
  private readonly batchSize: Histogram;

  constructor(registry: Registry) {
    const registers = [registry];
    this.fetchDuration = new Histogram({
      name: `${METRIC_PREFIX}image_fetch_duration_seconds`,
      help: 'Time to get the image bytes (download for `url`, decode for `base64`), by source and outcome (`ok`/`error`).',
      labelNames: ['source', 'outcome'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.fetchFailures = new Counter({
      name: `${METRIC_PREFIX}image_fetch_failures_total`,
      help: 'Images that could not be fetched, by source and problem `code` (e.g. upstream_timeout, url_forbidden_address).',
      labelNames: ['source', 'code'],
      registers,
    });
    this.inferenceDuration = new Histogram({
      name: `${METRIC_PREFIX}inference_duration_seconds`,
      help: 'Time the model runtime took for one run (preprocessed input to scores).',
      buckets: INFERENCE_BUCKETS,
      registers,
    });
    this.queueDuration = new Histogram({
      name: `${METRIC_PREFIX}inference_queue_duration_seconds`,
      help: 'Time an image waited for a free inference worker.',
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.decodeDuration = new Histogram({
      name: `${METRIC_PREFIX}image_decode_duration_seconds`,
      help: 'Time to decode and resize an image to the model input (on the inference worker).',
      buckets: INFERENCE_BUCKETS,
      registers,
    });
    this.batchSize = new Histogram({
      name: `${METRIC_PREFIX}inference_batch_size`,
      help: 'Images per model run.',
      buckets: [1, 2, 4, 8, 16, 32],
      registers,
    });
  }

  /** Runs `fetch`, timing it and counting a failure by its problem code. */
  async timeImageFetch<T>(source: ImageSourceKind, fetch: () => Promise<T>): Promise<T> {
    const stop = this.fetchDuration.startTimer({ source });
    try {
      const result = await fetch();
      stop({ outcome: 'ok' });
      return result;
    } catch (error) {
      stop({ outcome: 'error' });
      this.fetchFailures.inc({ source, code: error instanceof ProblemError ? error.code : 'internal_error' });
      throw error;
    }
  }

  /** Runs a classification and records where its time went (queue wait, decode, model run) and its batch size. */
  async trackInference<T extends InferenceTimings>(classify: () => Promise<T>, images = 1): Promise<T> {
    const result = await classify();
    this.inferenceDuration.observe(result.inferenceMs / 1000);
    if (result.queueMs !== undefined) this.queueDuration.observe(result.queueMs / 1000);
    if (result.decodeMs !== undefined) this.decodeDuration.observe(result.decodeMs / 1000);
    this.batchSize.observe(images);
    return result;
  }
}
