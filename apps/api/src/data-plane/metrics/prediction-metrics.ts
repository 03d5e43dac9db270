import { Injectable } from '@nestjs/common';
import { Counter, Histogram, Registry } from 'prom-client';
import { ProblemError } from '@app/problem';
import { observeTraced, traceExemplar } from '../../observability/exemplars';
import { LATENCY_BUCKETS, METRIC_PREFIX } from '../../observability/metrics-registry';
import type { Protocol } from '../protocol';

const INFERENCE_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const IMAGE_COUNT_BUCKETS = [1, 2, 4, 8, 16, 32, 64];

/** Milliseconds a classification reports; queue and decode times come from the inference workers. */
export interface InferenceTimings {
  inferenceMs: number;
  queueMs?: number;
  decodeMs?: number;
}

/** How an image arrived: `url` (downloaded), `base64` (in JSON), `bytes` (uploaded, or raw bytes over /v2 and gRPC). */
export type ImageSourceKind = 'url' | 'base64' | 'bytes';

const problemCode = (error: unknown): string =>
  error instanceof ProblemError ? error.code : 'internal_error';

/**
 * The data plane's metrics, each with the `protocol` the request came through (`v1`, `seed`, `v2`, `grpc`): the
 * requests and their images, and where each image's time went (fetch, queue, decode, model run).
 */
@Injectable()
export class PredictionMetrics {
  private readonly requests: Counter<'protocol' | 'code'>;
  private readonly requestDuration: Histogram<'protocol'>;
  private readonly requestImages: Histogram<'protocol'>;
  private readonly fetchDuration: Histogram<'protocol' | 'source' | 'outcome'>;
  private readonly fetchFailures: Counter<'protocol' | 'source' | 'code'>;
  private readonly inferenceDuration: Histogram<'protocol'>;
  private readonly queueDuration: Histogram<'protocol'>;
  private readonly decodeDuration: Histogram<'protocol'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.requests = new Counter({
      name: `${METRIC_PREFIX}inference_requests_total`,
      help: 'Prediction and inference requests the data plane answered, by protocol and `code` (`ok`, or the problem code of a refused or failed request).',
      labelNames: ['protocol', 'code'],
      registers,
    });
    this.requestDuration = new Histogram({
      name: `${METRIC_PREFIX}inference_request_duration_seconds`,
      help: 'Time the data plane took for one request, all its images included, by protocol.',
      labelNames: ['protocol'],
      buckets: LATENCY_BUCKETS,
      enableExemplars: true,
      registers,
    });
    this.requestImages = new Histogram({
      name: `${METRIC_PREFIX}inference_request_images`,
      help: 'Images in one request (a /v1 batch its items, a /v2 or gRPC input its first dimension), by protocol.',
      labelNames: ['protocol'],
      buckets: IMAGE_COUNT_BUCKETS,
      registers,
    });
    this.fetchDuration = new Histogram({
      name: `${METRIC_PREFIX}image_fetch_duration_seconds`,
      help: 'Time to get the image bytes (download for `url`, decode for `base64`), by protocol, source and outcome (`ok`/`error`).',
      labelNames: ['protocol', 'source', 'outcome'],
      buckets: LATENCY_BUCKETS,
      enableExemplars: true,
      registers,
    });
    this.fetchFailures = new Counter({
      name: `${METRIC_PREFIX}image_fetch_failures_total`,
      help: 'Images that could not be fetched, by protocol, source and problem `code` (e.g. upstream_timeout, url_forbidden_address).',
      labelNames: ['protocol', 'source', 'code'],
      registers,
    });
    this.inferenceDuration = new Histogram({
      name: `${METRIC_PREFIX}inference_duration_seconds`,
      help: 'Time the model runtime took for one run (preprocessed input to scores), by protocol.',
      labelNames: ['protocol'],
      buckets: INFERENCE_BUCKETS,
      enableExemplars: true,
      registers,
    });
    this.queueDuration = new Histogram({
      name: `${METRIC_PREFIX}inference_queue_duration_seconds`,
      help: 'Time an image or tensor waited for a free inference worker, by protocol.',
      labelNames: ['protocol'],
      buckets: LATENCY_BUCKETS,
      enableExemplars: true,
      registers,
    });
    this.decodeDuration = new Histogram({
      name: `${METRIC_PREFIX}image_decode_duration_seconds`,
      help: 'Time to decode and resize an image to the model input (on the inference worker), by protocol.',
      labelNames: ['protocol'],
      buckets: INFERENCE_BUCKETS,
      enableExemplars: true,
      registers,
    });
  }

  /** Runs one request of `images` images, counting it by its outcome and timing it. */
  async trackRequest<T>(protocol: Protocol, images: number, handle: () => Promise<T>): Promise<T> {
    const started = performance.now();
    this.requestImages.observe({ protocol }, images);
    try {
      const result = await handle();
      this.requests.inc({ protocol, code: 'ok' });
      return result;
    } catch (error) {
      this.requests.inc({ protocol, code: problemCode(error) });
      throw error;
    } finally {
      observeTraced(this.requestDuration, { protocol }, (performance.now() - started) / 1000);
    }
  }

  /** Runs `fetch`, timing it and counting a failure by its problem code. */
  async timeImageFetch<T>(protocol: Protocol, source: ImageSourceKind, fetch: () => Promise<T>): Promise<T> {
    const started = performance.now();
    const stop = (outcome: 'ok' | 'error') =>
      observeTraced(this.fetchDuration, { protocol, source, outcome }, (performance.now() - started) / 1000);
    try {
      const result = await fetch();
      stop('ok');
      return result;
    } catch (error) {
      stop('error');
      this.fetchFailures.inc({ protocol, source, code: problemCode(error) });
      throw error;
    }
  }

  /** Runs a classification and records where its time went (queue wait, decode, model run). */
  async trackInference<T extends InferenceTimings>(
    protocol: Protocol,
    classify: () => Promise<T>,
  ): Promise<T> {
    const result = await classify();
    const exemplar = traceExemplar();
    observeTraced(this.inferenceDuration, { protocol }, result.inferenceMs / 1000, exemplar);
    if (result.queueMs !== undefined)
      observeTraced(this.queueDuration, { protocol }, result.queueMs / 1000, exemplar);
    if (result.decodeMs !== undefined)
      observeTraced(this.decodeDuration, { protocol }, result.decodeMs / 1000, exemplar);
    return result;
  }
}
