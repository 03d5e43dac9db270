import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Registry } from 'prom-client';
import { METRIC_PREFIX } from '../observability/metrics-registry';
import type { FailureReason } from './http-sink';
import type { PredictionEventType } from './prediction-events';

/** Why an event never reached the sink. */
export type DropReason = 'buffer_full' | 'retries_exhausted' | 'rejected' | 'forbidden_address' | 'shutdown';

/** What became of an image offered to the capture folder. */
export type CaptureOutcome = 'written' | 'duplicate' | 'over_budget' | 'busy' | 'failed' | 'shutdown';

/**
 * The prediction log's own health: events delivered, failed tries, events dropped (each by reason), the events
 * waiting; and the capture's images and bytes. Registered whether or not the log is on, so a dashboard reads 0
 * rather than nothing.
 */
@Injectable()
export class PredictionLogMetrics {
  private readonly sent: Counter<'type'>;
  private readonly failures: Counter<'reason'>;
  private readonly drops: Counter<'reason'>;
  private readonly waiting: Gauge;
  private readonly captures: Counter<'outcome'>;
  private readonly captureBytes: Gauge;

  constructor(registry: Registry) {
    const registers = [registry];
    this.sent = new Counter({
      name: `${METRIC_PREFIX}prediction_log_events_sent_total`,
      help: 'Prediction log CloudEvents the sink accepted (2xx), by type (request, response).',
      labelNames: ['type'],
      registers,
    });
    this.failures = new Counter({
      name: `${METRIC_PREFIX}prediction_log_send_failures_total`,
      help: 'Prediction log sends that failed, each try counted, by reason (server_error, too_many_requests, rejected, timeout, connection, forbidden_address).',
      labelNames: ['reason'],
      registers,
    });
    this.drops = new Counter({
      name: `${METRIC_PREFIX}prediction_log_dropped_total`,
      help: 'Prediction log CloudEvents given up, by reason (buffer_full, retries_exhausted, rejected, forbidden_address, shutdown).',
      labelNames: ['reason'],
      registers,
    });
    this.waiting = new Gauge({
      name: `${METRIC_PREFIX}prediction_log_buffer_events`,
      help: 'Prediction log CloudEvents waiting in the buffer to be sent (not counting those being sent).',
      registers,
    });
    this.captures = new Counter({
      name: `${METRIC_PREFIX}prediction_capture_images_total`,
      help: 'Low-confidence images offered to PREDICTION_CAPTURE_DIR, by outcome (written, duplicate, over_budget, busy, failed, shutdown).',
      labelNames: ['outcome'],
      registers,
    });
    this.captureBytes = new Gauge({
      name: `${METRIC_PREFIX}prediction_capture_bytes`,
      help: 'Bytes in PREDICTION_CAPTURE_DIR (images and sidecars), against PREDICTION_CAPTURE_MAX_BYTES.',
      registers,
    });
  }

  eventSent(type: PredictionEventType): void {
    this.sent.inc({ type: type.slice(type.lastIndexOf('.') + 1) });
  }

  sendFailed(reason: FailureReason): void {
    this.failures.inc({ reason });
  }

  eventsDropped(reason: DropReason, count = 1): void {
    if (count > 0) this.drops.inc({ reason }, count);
  }

  bufferSize(events: number): void {
    this.waiting.set(events);
  }

  captured(outcome: CaptureOutcome): void {
    this.captures.inc({ outcome });
  }

  captureFolderBytes(bytes: number): void {
    this.captureBytes.set(bytes);
  }
}
