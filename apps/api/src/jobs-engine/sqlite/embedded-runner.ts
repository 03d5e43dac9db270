import { rm } from 'node:fs/promises';
import { Logger } from '@nestjs/common';
import type { ItemProcessor } from '../item-processor';
import type { JobsMetrics } from '../jobs-metrics';
import type { ClaimedItem, JobRecord } from '../job-types';
import type { SqliteJobStore } from './sqlite-job-store';

export interface EmbeddedRunnerOptions {
  /** Items classified at once (JOBS_CONCURRENCY). */
  concurrency: number;
  /** Tries of an item that failed on the server's side (JOBS_ITEM_ATTEMPTS). */
  attempts: number;
  /** Called once per job that reached its end (completed, cancelled or failed), for its webhook. */
  onFinished(job: JobRecord): void;
}

const IDLE_POLL_MS = 1_000;
const MIN_BACKOFF_MS = 50;
const MAX_BACKOFF_MS = 2_000;

/**
 * The embedded job runner: `concurrency` loops, each claiming the next item of the oldest unfinished job,
 * classifying it in the background lane and writing its result in the same transaction that marks it done.
 * A busy service (`overloaded`, `model_not_ready`, ...) puts the item back and slows the loop down
 * (back-pressure, not a failure). After a crash, the items that were running are queued again at start.
 */
export class EmbeddedRunner {
  private readonly logger = new Logger('Jobs');
  private stopped = false;
  private loops: Array<Promise<void>> = [];
  private wakers = new Set<() => void>();

  constructor(
    private readonly store: SqliteJobStore,
    private readonly processor: ItemProcessor,
    private readonly metrics: JobsMetrics,
    private readonly options: EmbeddedRunnerOptions,
  ) {}

  start(): void {
    const recovered = this.store.recoverInterrupted();
    if (recovered > 0)
      this.logger.log(`${recovered} job item(s) interrupted by the last stop are queued again`);
    for (const jobId of this.store.finishedJobIds()) void this.removeFiles(jobId);
    this.loops = Array.from({ length: this.options.concurrency }, () => this.loop());
  }

  /** New work: waiting loops look at once instead of at their next poll. */
  wake(): void {
    for (const wake of this.wakers) wake();
    this.wakers.clear();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake();
    await Promise.all(this.loops);
  }

  private async loop(): Promise<void> {
    let backoff = 0;
    while (!this.stopped) {
      const item = this.store.claim();
      if (!item) {
        const due = this.store.nextDue();
        await this.sleep(
          due === undefined ? IDLE_POLL_MS : Math.max(0, Math.min(IDLE_POLL_MS, due - Date.now())),
        );
        continue;
      }
      let busy: boolean;
      try {
        busy = await this.runOne(item);
      } catch (error) {
        // The store itself failed (a full disk, say): the item goes back, and this loop slows down.
        this.logger.error(
          `Job ${item.jobId} item ${item.index}: ${error instanceof Error ? error.message : String(error)}`,
        );
        try {
          this.store.defer(item, MAX_BACKOFF_MS, false);
        } catch {
          // Still failing: the item stays claimed and is queued again at the next start.
        }
        busy = true;
      }
      backoff = busy ? Math.min(MAX_BACKOFF_MS, Math.max(MIN_BACKOFF_MS, backoff * 2)) : 0;
      if (backoff > 0) await this.sleep(backoff);
    }
  }

  /** Runs one claimed item to its result, a deferral or a retry; true when the service said it was busy. */
  private async runOne(item: ClaimedItem): Promise<boolean> {
    const run = await this.processor.run(item);
    switch (run.kind) {
      case 'result':
        this.settle(item, run.outcome, run.line);
        return false;
      case 'defer':
        this.store.defer(item, MIN_BACKOFF_MS, false);
        this.metrics.itemRun('deferred');
        return true;
      case 'retry':
        if (item.attempts >= this.options.attempts) {
          const failed = this.processor.failed(item, run.problem);
          if (failed.kind === 'result') this.settle(item, failed.outcome, failed.line);
        } else {
          this.store.defer(item, 500 * 2 ** (item.attempts - 1), true);
          this.metrics.itemRun('retried');
        }
        return false;
      case 'job-failed': {
        const job = this.store.failJob(item.jobId, run.problem);
        if (job) this.finished(job);
        return false;
      }
    }
  }

  private settle(
    item: ClaimedItem,
    outcome: 'succeeded' | 'failed',
    line: Parameters<SqliteJobStore['settle']>[2],
  ): void {
    const settled = this.store.settle(item, outcome, line);
    this.metrics.itemRun(settled.written ? outcome : 'duplicate');
    if (settled.finished) this.finished(settled.finished);
  }

  private finished(job: JobRecord): void {
    this.options.onFinished(job);
    this.ended(job);
  }

  /** The job ended (here, or cancelled by the API): its extracted files go. */
  ended(job: JobRecord): void {
    void this.removeFiles(job.id);
  }

  /** An archive's extracted members are not needed once its job has ended. */
  private async removeFiles(jobId: string): Promise<void> {
    await rm(this.store.jobDirectory(jobId), { recursive: true, force: true }).catch(() => undefined);
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakers.add(done);
    });
  }
}
