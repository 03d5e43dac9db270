import { backoffDelay, SEND_BACKOFF, type BackoffPolicy } from './backoff';
import { BoundedQueue } from './bounded-queue';
import type { HttpMessage } from './cloudevents-http';
import type { EventSink } from './http-sink';
import type { PredictionEventType } from './prediction-events';
import type { DropReason, PredictionLogMetrics } from './prediction-log-metrics';

/** One event ready to go: its type (for the counters) and its HTTP request. */
export interface OutgoingEvent {
  type: PredictionEventType;
  message: HttpMessage;
}

export interface DispatcherOptions {
  bufferSize: number;
  concurrency: number;
  /** Tries after the first. */
  retries: number;
  backoff?: BackoffPolicy;
  random?: () => number;
}

type Metrics = Pick<PredictionLogMetrics, 'eventSent' | 'sendFailed' | 'eventsDropped' | 'bufferSize'>;

/**
 * The bounded buffer between the predictions and the sink. `enqueue` only adds to the buffer (a full buffer drops
 * its oldest event, counted); at most `concurrency` events are sent at once, each retried after a jittered
 * exponential backoff while its failure is retryable. Nothing here is awaited by a prediction.
 */
export class EventDispatcher {
  private readonly buffer: BoundedQueue<OutgoingEvent>;
  private readonly deliveries = new Set<Promise<void>>();
  private readonly pauses = new Set<() => void>();
  private idleWaiters: Array<() => void> = [];
  private closed = false;

  constructor(
    private readonly sink: EventSink,
    private readonly metrics: Metrics,
    private readonly options: DispatcherOptions,
  ) {
    this.buffer = new BoundedQueue(options.bufferSize);
  }

  /** Events waiting (not those being sent). */
  get waiting(): number {
    return this.buffer.length;
  }

  enqueue(event: OutgoingEvent): void {
    if (this.closed) return this.metrics.eventsDropped('shutdown');
    if (this.buffer.push(event)) this.metrics.eventsDropped('buffer_full');
    this.pump();
  }

  /**
   * Waits at most `timeoutMs` for the buffer to empty and the sends to end, then stops: what is left is dropped
   * (counted as `shutdown`), retries waiting are abandoned and the sink's connections cut.
   */
  async flush(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.idle(),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
    ]);
    clearTimeout(timer);
    this.closed = true;
    this.metrics.eventsDropped('shutdown', this.buffer.takeAll().length);
    this.metrics.bufferSize(0);
    for (const resume of this.pauses) resume();
    this.sink.close();
    await Promise.allSettled([...this.deliveries]);
  }

  private pump(): void {
    while (!this.closed && this.deliveries.size < this.options.concurrency && this.buffer.length > 0) {
      const event = this.buffer.shift()!;
      const delivery: Promise<void> = this.deliver(event).finally(() => {
        this.deliveries.delete(delivery);
        this.pump();
        this.wakeIdleWaiters();
      });
      this.deliveries.add(delivery);
    }
    this.metrics.bufferSize(this.buffer.length);
  }

  private async deliver(event: OutgoingEvent): Promise<void> {
    for (let retry = 0; ; retry++) {
      const result = await this.sink.send(event.message);
      if (result.ok) return this.metrics.eventSent(event.type);
      // A send cut by the shutdown is the shutdown's drop, not the sink's failure.
      if (this.closed) return this.metrics.eventsDropped('shutdown');
      this.metrics.sendFailed(result.reason);
      if (!result.retryable) return this.metrics.eventsDropped(dropReasonOf(result.reason));
      if (retry >= this.options.retries) return this.metrics.eventsDropped('retries_exhausted');
      const policy = this.options.backoff ?? SEND_BACKOFF;
      const jittered = backoffDelay(retry, policy, this.options.random);
      await this.pause(Math.min(policy.maxMs, Math.max(jittered, result.retryAfterMs ?? 0)));
      if (this.closed) return this.metrics.eventsDropped('shutdown');
    }
  }

  /** Sleeps `ms`, or until the dispatcher stops. */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const resume = (): void => {
        clearTimeout(timer);
        this.pauses.delete(resume);
        resolve();
      };
      const timer = setTimeout(resume, ms);
      this.pauses.add(resume);
    });
  }

  private idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private isIdle(): boolean {
    return this.buffer.length === 0 && this.deliveries.size === 0;
  }

  private wakeIdleWaiters(): void {
    if (!this.isIdle()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }
}

function dropReasonOf(reason: string): DropReason {
  return reason === 'forbidden_address' ? 'forbidden_address' : 'rejected';
}
