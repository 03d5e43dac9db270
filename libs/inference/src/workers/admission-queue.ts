import { problem } from '@app/problem';

export interface AdmissionOptions {
  /** Tasks run at once (one per worker). */
  concurrency: number;
  /** Tasks that may wait beyond those running; one more is refused at once with 503 `overloaded`. */
  maxQueue: number;
  /** Deadline from admission to result; past it the caller gets 503 `inference_timeout`. */
  timeoutMs: number;
}

export type AdmissionOutcome = 'ok' | 'error' | 'overloaded' | 'timeout' | 'abandoned';

export interface AdmissionStats {
  concurrency: number;
  maxQueue: number;
  running: number;
  queued: number;
  /** Tasks that started running (abandoned or expired queued tasks never do). */
  started: number;
  completed: number;
  failed: number;
  overloaded: number;
  timedOut: number;
  abandoned: number;
}

interface Entry<Task, Result> {
  task: Task;
  /** Called as the task leaves the queue for a runner. */
  onStart?: () => void;
  state: 'queued' | 'running';
  settled: boolean;
  startedAt?: number;
  timer: NodeJS.Timeout;
  signal?: AbortSignal;
  onAbort?: () => void;
  resolve(result: Result): void;
  reject(error: Error): void;
}

/**
 * A bounded queue in front of a fixed number of runners. When the queue is full the caller is refused at once
 * (503 + Retry-After) instead of memory growing; a task waiting past its deadline is dropped; a task whose
 * client went away is dropped if it has not started, and its result discarded if it has.
 */
export class AdmissionQueue<Task, Result> {
  private readonly queue: Array<Entry<Task, Result>> = [];
  private running = 0;
  private averageRunMs = 0;
  private readonly counts = { started: 0, completed: 0, failed: 0, overloaded: 0, timedOut: 0, abandoned: 0 };

  constructor(
    private readonly options: AdmissionOptions,
    private readonly runner: (task: Task) => Promise<Result>,
  ) {
    if (options.concurrency < 1) throw new Error('An admission queue needs a concurrency of at least 1.');
  }

  /** Queues `task`; `onStart` runs as it leaves the queue for a runner, just before the runner gets it. */
  submit(task: Task, signal?: AbortSignal, onStart?: () => void): Promise<Result> {
    if (signal?.aborted) {
      this.record('abandoned');
      return Promise.reject(clientClosed());
    }
    if (this.running >= this.options.concurrency && this.queue.length >= this.options.maxQueue) {
      this.record('overloaded');
      return Promise.reject(
        problem(
          'overloaded',
          `All ${this.options.concurrency} inference workers are busy and ${this.options.maxQueue} requests are waiting; retry after the time in Retry-After.`,
          { retry_after_seconds: this.retryAfterSeconds() },
        ),
      );
    }
    return new Promise<Result>((resolve, reject) => {
      const entry: Entry<Task, Result> = {
        task,
        onStart,
        state: 'queued',
        settled: false,
        timer: setTimeout(() => this.expire(entry), this.options.timeoutMs),
        signal,
        resolve,
        reject,
      };
      if (signal) {
        entry.onAbort = () => this.abandon(entry);
        signal.addEventListener('abort', entry.onAbort, { once: true });
      }
      this.queue.push(entry);
      this.pump();
    });
  }

  stats(): AdmissionStats {
    return {
      concurrency: this.options.concurrency,
      maxQueue: this.options.maxQueue,
      running: this.running,
      queued: this.queue.length,
      ...this.counts,
    };
  }

  /** Rough wait for a new request: the work ahead of it spread over the runners, at least one second. */
  retryAfterSeconds(): number {
    const ahead = this.running + this.queue.length;
    return Math.max(1, Math.ceil((ahead * this.averageRunMs) / this.options.concurrency / 1000));
  }

  private pump(): void {
    while (this.running < this.options.concurrency && this.queue.length > 0) this.start(this.queue.shift()!);
  }

  private start(entry: Entry<Task, Result>): void {
    entry.state = 'running';
    entry.startedAt = performance.now();
    this.running++;
    this.counts.started++;
    let work: Promise<Result>;
    try {
      entry.onStart?.();
      work = this.runner(entry.task);
    } catch (error) {
      work = Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    work.then(
      (result) => this.finish(entry, () => entry.resolve(result), 'ok'),
      (error: unknown) =>
        this.finish(
          entry,
          () => entry.reject(error instanceof Error ? error : new Error(String(error))),
          'error',
        ),
    );
  }

  private finish(entry: Entry<Task, Result>, deliver: () => void, outcome: 'ok' | 'error'): void {
    this.running--;
    const runMs = performance.now() - entry.startedAt!;
    if (outcome === 'ok')
      this.averageRunMs = this.averageRunMs === 0 ? runMs : this.averageRunMs * 0.9 + runMs * 0.1;
    if (!entry.settled) this.settle(entry, deliver, outcome);
    this.pump();
  }

  private expire(entry: Entry<Task, Result>): void {
    if (entry.settled) return;
    this.removeQueued(entry);
    const error = problem(
      'inference_timeout',
      `The image was not classified within ${this.options.timeoutMs} ms because the service is busy; retry later.`,
      { retry_after_seconds: this.retryAfterSeconds() },
    );
    // A running task keeps its worker until it ends; only the caller stops waiting.
    this.settle(entry, () => entry.reject(error), 'timeout');
  }

  private abandon(entry: Entry<Task, Result>): void {
    if (entry.settled) return;
    this.removeQueued(entry);
    this.settle(entry, () => entry.reject(clientClosed()), 'abandoned');
  }

  private removeQueued(entry: Entry<Task, Result>): void {
    if (entry.state !== 'queued') return;
    const index = this.queue.indexOf(entry);
    if (index >= 0) this.queue.splice(index, 1);
  }

  private settle(entry: Entry<Task, Result>, deliver: () => void, outcome: AdmissionOutcome): void {
    entry.settled = true;
    clearTimeout(entry.timer);
    if (entry.onAbort) entry.signal?.removeEventListener('abort', entry.onAbort);
    this.record(outcome);
    deliver();
  }

  private record(outcome: AdmissionOutcome): void {
    const key = (
      {
        ok: 'completed',
        error: 'failed',
        overloaded: 'overloaded',
        timeout: 'timedOut',
        abandoned: 'abandoned',
      } as const
    )[outcome];
    this.counts[key]++;
  }
}

function clientClosed() {
  return problem(
    'client_closed_request',
    'The client closed the connection before the image was classified.',
  );
}
