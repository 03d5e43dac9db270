import { Injectable } from '@nestjs/common';
import type { ImageOrigin, SizeBucket } from './metrics/quality-metrics';
import type { Protocol } from './protocol';

/** Why an answer was withheld: its top-1 confidence is under the model's (or the request's) `min_confidence`. */
export interface Abstention {
  reason: 'low_confidence';
  /** The reason in plain words. */
  detail: string;
  min_confidence: number;
  /** The classes the model hesitated between, most likely first (the answer's top k). */
  candidates: Array<{ label: string; confidence: number }>;
}

/** One classified image, as the data plane saw it: every front-end's images publish one. */
export interface PredictionRecord {
  /** Epoch milliseconds when the answer was ready. */
  at: number;
  protocol: Protocol;
  /** The request's id (X-Request-Id, or the one made for it); absent when the front-end has none. */
  requestId?: string;
  /** The request's trace id, when tracing is on and the request is sampled. */
  traceId?: string;
  model: { name: string; version: string };
  /** The top-1 class, its probability, and its lead over the second class. */
  label: string;
  confidence: number;
  margin: number;
  /** The answer's top k, most likely first. */
  top: Array<{ label: string; confidence: number }>;
  abstention?: Abstention;
  image: {
    origin: ImageOrigin;
    /** The image file's format, or `tensor`. */
    format: string;
    size: SizeBucket;
    /** The photo as sent (absent for a tensor). */
    width?: number;
    height?: number;
    /**
     * The image file's bytes as the client sent them: hash or keep them, never change them. Absent for a tensor,
     * whose buffer moves to the worker that runs it.
     */
    bytes?: Uint8Array;
  };
  timings: { fetchMs: number; decodeMs: number; queueMs: number; inferenceMs: number };
}

export type PredictionListener = (record: PredictionRecord) => void;

/**
 * Every classified image, for whoever watches predictions (the prediction log, the /monitor page's history).
 * Listeners run synchronously on the prediction's path, so they must only copy what they need and return: anything
 * slow (hashing, sending, writing) is theirs to defer. A listener that throws is ignored.
 */
@Injectable()
export class PredictionFeed {
  private listeners: PredictionListener[] = [];

  /** Adds a listener; the function returned removes it. */
  subscribe(listener: PredictionListener): () => void {
    this.listeners = [...this.listeners, listener];
    return () => {
      this.listeners = this.listeners.filter((one) => one !== listener);
    };
  }

  /** True when someone listens: the record is only built then. */
  get watched(): boolean {
    return this.listeners.length > 0;
  }

  publish(record: PredictionRecord): void {
    for (const listener of this.listeners) {
      try {
        listener(record);
      } catch {
        // A watcher's bug must not fail the prediction it watched.
      }
    }
  }
}
