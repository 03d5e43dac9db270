import { problem } from '@app/problem';

/**
 * `interactive`: a client is waiting for this answer. `background`: work a client asked for but does not wait on
 * image by image (an explanation's masked variants, and later shadow traffic and bulk jobs); it runs only on a
 * runner no interactive task wants, at most `background.concurrency` at once, so interactive latency stays as it was.
 */
export type Lane = 'interactive' | 'background';

export interface BackgroundLaneOptions {
  /** Background tasks run at once, at most (the rest of the runners stay free for interactive work). */
  concurrency: number;
  /** Background tasks that may wait; one more is refused at once with 503 `overloaded`. */
  maxQueue: number;
}

export interface AdmissionOptions {
  /** Tasks run at once (one per worker). */
  concurrency: number;
  /** Tasks that may wait beyond those running; one more is refused at once with 503 `overloaded`. */
  maxQueue: number;
  /** Deadline from admission to result; past it the caller gets 503 `inference_timeout`. */
  timeoutMs: number;
  /** The background lane; by default one runner fewer than `concurrency` (at least one) and 64 waiting. */
  background?: BackgroundLaneOptions;
}

export type AdmissionOutcome = 'ok' | 'error' | 'overloaded' | 'timeout' | 'abandoned';

interface OutcomeCounts {
  /** Tasks that started running (abandoned or expired queued tasks never do). */
  started: number;
  completed: number;
  failed: number;
  overloaded: number;
  timedOut: number;
  abandoned: number;
}

export interface LaneStats extends OutcomeCounts {
  concurrency: number;
  maxQueue: number;
  running: number;
  queued: number;
}

/** The interactive lane's figures (and `running`, every task on a runner), and the background lane's apart. */
export interface AdmissionStats extends LaneStats {
  background: LaneStats;
}

export interface SubmitOptions {
  /** The client went away: a queued task is dropped, a running one's result discarded. */
  signal?: AbortSignal;
  /** Called as the task leaves the queue for a runner, just before the runner gets it. */
  onStart?: () => void;
  lane?: Lane;
}

interface Entry<Task, Result> {
  task: Task;
  lane: Lane;
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

const newCounts = (): OutcomeCounts => ({
  started: 0,
  completed: 0,
  failed: 0,
  overloaded: 0,
  timedOut: 0,
  abandoned: 0,
});

/**
 * A bounded queue in front of a fixed number of runners, in two lanes. When a lane's queue is full the caller is
 * refused at once (503 + Retry-After) instead of memory growing; a task waiting past its deadline is dropped; a
 * task whose client went away is dropped if it has not started, and its result discarded if it has. A free runner
 * always takes the oldest interactive task first; a background task starts only when no interactive task waits
 * and fewer than the background cap are running, and so it is the first to wait (and to expire) when the service
 * is saturated.
 */
export class AdmissionQueue<Task, Result> {
  private readonly queues: Record<Lane, Array<Entry<Task, Result>>> = { interactive: [], background: [] };
  private running = 0;
  private backgroundRunning = 0;
  private averageRunMs = 0;
  private readonly counts: Record<Lane, OutcomeCounts> = {
    interactive: newCounts(),
    background: newCounts(),
  };
  private readonly background: BackgroundLaneOptions;

  constructor(
    private readonly options: AdmissionOptions,
    private readonly runner: (task: Task) => Promise<Result>,
  ) {
    if (options.concurrency < 1) throw new Error('An admission queue needs a concurrency of at least 1.');
    this.background = options.background ?? {
      concurrency: Math.max(1, options.concurrency - 1),
      maxQueue: 64,
    };
  }

  submit(task: Task, { signal, onStart, lane = 'interactive' }: SubmitOptions = {}): Promise<Result> {
    if (signal?.aborted) {
      this.record(lane, 'abandoned');
      return Promise.reject(clientClosed());
    }
    const refusal = this.refusal(lane);
    if (refusal) {
      this.record(lane, 'overloaded');
      return Promise.reject(refusal);
    }
    return new Promise<Result>((resolve, reject) => {
      const entry: Entry<Task, Result> = {
        task,
        lane,
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
      this.queues[lane].push(entry);
      this.pump();
    });
  }

  stats(): AdmissionStats {
    return {
      concurrency: this.options.concurrency,
      maxQueue: this.options.maxQueue,
      running: this.running,
      queued: this.queues.interactive.length,
      ...this.counts.interactive,
      background: {
        concurrency: this.background.concurrency,
        maxQueue: this.background.maxQueue,
        running: this.backgroundRunning,
        queued: this.queues.background.length,
        ...this.counts.background,
      },
    };
  }

  /** Rough wait for a new request: the work ahead of it spread over the runners, at least one second. */
  retryAfterSeconds(): number {
    const ahead = this.running + this.queues.interactive.length;
    return Math.max(1, Math.ceil((ahead * this.averageRunMs) / this.options.concurrency / 1000));
  }

  private refusal(lane: Lane) {
    if (lane === 'background') {
      if (this.queues.background.length < this.background.maxQueue) return undefined;
      return problem(
        'overloaded',
        `Background work (explanations) is at its limit: ${this.background.maxQueue} images are waiting for the ${this.background.concurrency} worker(s) it may use; retry after the time in Retry-After.`,
        { retry_after_seconds: this.retryAfterSeconds() },
      );
    }
    if (this.running < this.options.concurrency || this.queues.interactive.length < this.options.maxQueue)
      return undefined;
    return problem(
      'overloaded',
      `All ${this.options.concurrency} inference workers are busy and ${this.options.maxQueue} requests are waiting; retry after the time in Retry-After.`,
      { retry_after_seconds: this.retryAfterSeconds() },
    );
  }

  private pump(): void {
    while (this.running < this.options.concurrency) {
      const next =
        this.queues.interactive.shift() ??
        (this.backgroundRunning < this.background.concurrency ? this.queues.background.shift() : undefined);
      if (!next) return;
      this.start(next);
    }
  }

  private start(entry: Entry<Task, Result>): void {
    entry.state = 'running';
    entry.startedAt = performance.now();
    this.running++;
    if (entry.lane === 'background') this.backgroundRunning++;
    this.counts[entry.lane].started++;
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
    if (entry.lane === 'background') this.backgroundRunning--;
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
    const queue = this.queues[entry.lane];
    const index = queue.indexOf(entry);
    if (index >= 0) queue.splice(index, 1);
  }

  private settle(entry: Entry<Task, Result>, deliver: () => void, outcome: AdmissionOutcome): void {
    entry.settled = true;
    clearTimeout(entry.timer);
    if (entry.onAbort) entry.signal?.removeEventListener('abort', entry.onAbort);
    this.record(entry.lane, outcome);
    deliver();
  }

  private record(lane: Lane, outcome: AdmissionOutcome): void {
    const key = (
      {
        ok: 'completed',
        error: 'failed',
        overloaded: 'overloaded',
        timeout: 'timedOut',
        abandoned: 'abandoned',
      } as const
    )[outcome];
    this.counts[lane][key]++;
  }
}

function clientClosed() {
  return problem(
    'client_closed_request',
    'The client closed the connection before the image was classified.',
  );
}
