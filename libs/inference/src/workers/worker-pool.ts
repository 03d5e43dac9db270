import { Logger } from '@nestjs/common';
import type { Worker } from 'node:worker_threads';
import { deserializeError } from './serialized-error';
import type { MainToWorkerMessage, WorkerMessage } from './worker-protocol';
import { startWorker } from './worker-script';

export interface WorkerPoolOptions<Setup> {
  /** The worker module (see startWorker); it calls serveWorkerTasks. */
  file: string;
  size: number;
  /** Sent to every worker as `workerData` (structured-cloned). */
  setup: Setup;
  /** Used in log lines. */
  name: string;
  /** First delay before retrying a replacement that failed to start; doubles up to 30 s. */
  restartDelayMs?: number;
  /**
   * A task running longer than this is taken as stuck (a hang or an endless loop): its worker is stopped, the
   * task fails with WorkerCrashedError and a fresh worker takes the slot. Unset: tasks may run forever.
   */
  stuckTaskMs?: number;
  /**
   * Longest a worker may take to report ready (its load and warm-up); past it the worker is terminated and
   * its start fails with WorkerStartTimeoutError. No limit when absent.
   */
  startTimeoutMs?: number;
  /**
   * How long close() (and a failed start) waits for a worker to finish its load or task and exit by itself
   * before terminating it; 30 s when absent. See StopMessage for why a worker is not terminated at once.
   */
  stopGraceMs?: number;
}

/** A worker that did not report ready within `startTimeoutMs`; it was terminated. */
export class WorkerStartTimeoutError extends Error {
  constructor(
    readonly timeoutMs: number,
    /** The last step the worker reported (see reportLoadStage), if any. */
    readonly stage: string | undefined,
  ) {
    super(
      `The worker did not become ready within ${timeoutMs / 1000} s${stage ? ` (last step: ${stage})` : ''} and was stopped.`,
    );
    this.name = 'WorkerStartTimeoutError';
  }
}

/** A task lost because its worker died (crash, out of memory, or terminated). */
export class WorkerCrashedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WorkerCrashedError';
  }
}

interface PendingTask<Task, Result> {
  id: number;
  task: Task;
  transfer: ArrayBuffer[];
  resolve(result: Result): void;
  reject(error: Error): void;
}

interface Slot<Task, Result> {
  worker: Worker;
  threadId: number;
  state: 'starting' | 'idle' | 'busy';
  current?: PendingTask<Task, Result>;
  /** Why the worker is going away, when it was not a crash (replaceWorker). */
  endReason?: string;
  /** Stops the worker when its current task runs past stuckTaskMs. */
  stuckTimer?: NodeJS.Timeout;
  lastError?: Error;
  /** The last load step the worker reported while starting. */
  stage?: string;
  /** Resolves when the worker thread has exited. */
  exited: Promise<void>;
}

export interface WorkerPoolStats {
  size: number;
  ready: number;
  busy: number;
  /** Tasks handed to the pool that wait for a free worker. */
  waiting: number;
  crashes: number;
}

const MAX_RESTART_DELAY_MS = 30_000;
const STALLED_LOAD_GRACE_MS = 5_000;

/**
 * A fixed number of worker threads, each loaded once (e.g. with its own model), running one task at a time.
 * A worker that dies fails only the task it was running (WorkerCrashedError) and is replaced; the pool never
 * terminates a worker to cancel a task, because a new one would have to load the model again.
 */
export class WorkerPool<Setup, Task, Result, Info> {
  private readonly logger: Logger;
  private readonly slots = new Set<Slot<Task, Result>>();
  private readonly waiting: Array<PendingTask<Task, Result>> = [];
  private nextId = 1;
  private closed = false;
  private crashes = 0;
  private restartDelayMs: number;

  private constructor(private readonly options: WorkerPoolOptions<Setup>) {
    this.logger = new Logger(options.name);
    this.restartDelayMs = options.restartDelayMs ?? 1_000;
  }

  /** Starts every worker and waits until all are ready; if one fails to start, stops the others and throws why. */
  static async start<Setup, Task, Result, Info>(
    options: WorkerPoolOptions<Setup>,
  ): Promise<{ pool: WorkerPool<Setup, Task, Result, Info>; infos: Info[] }> {
    if (!Number.isInteger(options.size) || options.size < 1)
      throw new Error(`A worker pool needs at least one worker.`);
    const pool = new WorkerPool<Setup, Task, Result, Info>(options);
    try {
      const infos = await Promise.all(Array.from({ length: options.size }, () => pool.spawn()));
      return { pool, infos };
    } catch (error) {
      await pool.close();
      throw error;
    }
  }

  /** Runs `task` on the next free worker. */
  run(task: Task, transfer: ArrayBuffer[] = []): Promise<Result> {
    if (this.closed) return Promise.reject(new Error('The worker pool is closed.'));
    return new Promise<Result>((resolve, reject) => {
      this.waiting.push({ id: this.nextId++, task, transfer, resolve, reject });
      this.dispatch();
    });
  }

  stats(): WorkerPoolStats {
    let ready = 0;
    let busy = 0;
    for (const slot of this.slots) {
      if (slot.state !== 'starting') ready++;
      if (slot.state === 'busy') busy++;
    }
    return { size: this.options.size, ready, busy, waiting: this.waiting.length, crashes: this.crashes };
  }

  /** Thread ids of the current workers. */
  threadIds(): number[] {
    return [...this.slots].map((slot) => slot.threadId);
  }

  /**
   * Stops one worker at once and starts a fresh one; a task it was running fails with WorkerCrashedError.
   * For a worker an operator or a test wants gone (e.g. one suspected stuck).
   */
  async replaceWorker(threadId: number): Promise<boolean> {
    const slot = [...this.slots].find((candidate) => candidate.threadId === threadId);
    if (!slot) return false;
    slot.endReason = 'it was stopped and replaced';
    await slot.worker.terminate();
    return true;
  }

  /** Refuses new tasks, lets running loads and tasks finish (up to stopGraceMs), then ends every worker. */
  async close(): Promise<void> {
    this.closed = true;
    for (const pending of this.waiting.splice(0)) pending.reject(new Error('The worker pool closed.'));
    await Promise.all([...this.slots].map((slot) => this.stop(slot)));
  }

  /** Asks a worker to exit once it is idle; terminates it only if it has not done so within stopGraceMs. */
  private stop(slot: Slot<Task, Result>, graceMs = this.stopGraceMs): Promise<void> {
    const stop: MainToWorkerMessage<Task> = { type: 'stop' };
    slot.worker.postMessage(stop);
    const grace = setTimeout(() => {
      slot.endReason ??= `it did not stop within ${graceMs} ms of being asked to, so it was terminated`;
      void slot.worker.terminate();
    }, graceMs);
    return slot.exited.finally(() => clearTimeout(grace));
  }

  private get stopGraceMs(): number {
    return this.options.stopGraceMs ?? 30_000;
  }

  private spawn(): Promise<Info> {
    return new Promise<Info>((resolve, reject) => {
      const worker = startWorker(this.options.file, this.options.setup);
      const exited = new Promise<void>((resolveExit) => worker.once('exit', () => resolveExit()));
      const slot: Slot<Task, Result> = { worker, threadId: worker.threadId, state: 'starting', exited };
      this.slots.add(slot);
      const limit = this.options.startTimeoutMs;
      // A load that never finishes (a config TF.js re-queues forever, a stuck engine) must not hang startup.
      const deadline =
        limit === undefined
          ? undefined
          : setTimeout(() => {
              if (slot.state !== 'starting') return;
              const error = new WorkerStartTimeoutError(limit, slot.stage);
              slot.endReason = error.message;
              slot.lastError = error;
              reject(error);
              // A load stalled in JavaScript never reads the stop message, so the grace is short.
              void this.stop(slot, STALLED_LOAD_GRACE_MS);
            }, limit);
      worker.on('message', (message: WorkerMessage<Result, Info>) => {
        switch (message.type) {
          case 'log':
            new Logger(message.context ?? this.options.name)[message.level](message.message);
            break;
          case 'stage':
            slot.stage = message.stage;
            break;
          case 'ready':
            clearTimeout(deadline);
            slot.state = 'idle';
            resolve(message.info);
            this.dispatch();
            break;
          case 'failed':
            clearTimeout(deadline);
            slot.endReason = 'it failed to start';
            reject(deserializeError(message.error));
            void this.stop(slot);
            break;
          case 'result':
          case 'error':
            this.settle(slot, message);
            break;
        }
      });
      worker.on('error', (error) => (slot.lastError = error));
      worker.on('exit', (code) => {
        clearTimeout(slot.stuckTimer);
        clearTimeout(deadline);
        this.slots.delete(slot);
        const why =
          slot.endReason ??
          `it exited with code ${code}${slot.lastError ? `: ${slot.lastError.message}` : ''}`;
        if (slot.state === 'starting') {
          reject(slot.lastError ?? new Error(`The worker stopped before it was ready: ${why}.`));
          return;
        }
        slot.current?.reject(new WorkerCrashedError(`The worker running this task stopped: ${why}.`));
        slot.current = undefined;
        if (this.closed) return;
        this.crashes++;
        this.logger.error(`Worker ${slot.threadId} stopped (${why}); starting a replacement.`);
        this.replace();
      });
    });
  }

  private replace(): void {
    if (this.closed) return;
    this.spawn().then(
      () => {
        this.restartDelayMs = this.options.restartDelayMs ?? 1_000;
      },
      (error: unknown) => {
        if (this.closed) return;
        this.logger.error(
          `A replacement worker failed to start (${(error as Error).message}); retrying in ${this.restartDelayMs} ms.`,
        );
        setTimeout(() => this.replace(), this.restartDelayMs).unref();
        this.restartDelayMs = Math.min(this.restartDelayMs * 2, MAX_RESTART_DELAY_MS);
      },
    );
  }

  private settle(
    slot: Slot<Task, Result>,
    message: Extract<WorkerMessage<Result, Info>, { id: number }>,
  ): void {
    const pending = slot.current;
    if (!pending || pending.id !== message.id) return;
    slot.current = undefined;
    slot.state = 'idle';
    clearTimeout(slot.stuckTimer);
    if (message.type === 'result') pending.resolve(message.result);
    else pending.reject(deserializeError(message.error));
    this.dispatch();
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (this.waiting.length === 0) return;
      if (slot.state !== 'idle') continue;
      const pending = this.waiting.shift()!;
      slot.state = 'busy';
      slot.current = pending;
      const stuckMs = this.options.stuckTaskMs;
      if (stuckMs !== undefined) {
        slot.stuckTimer = setTimeout(() => {
          slot.endReason = `its task ran for more than ${stuckMs} ms, so it was taken as stuck and replaced`;
          void slot.worker.terminate();
        }, stuckMs);
        slot.stuckTimer.unref();
      }
      const message: MainToWorkerMessage<Task> = { type: 'task', id: pending.id, task: pending.task };
      slot.worker.postMessage(message, pending.transfer);
    }
  }
}
