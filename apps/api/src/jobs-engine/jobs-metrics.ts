import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Registry } from 'prom-client';
import { METRIC_PREFIX } from '../observability/metrics-registry';
import { JOB_STATES, type JobState } from './job-types';
import type { WebhookOutcome } from './webhook/completion-webhook';

/** What became of one run of a job item. */
export type ItemRunOutcome = 'succeeded' | 'failed' | 'deferred' | 'retried' | 'duplicate';

export interface JobStats {
  jobs: Record<JobState, number>;
  queuedItems: number;
}

/**
 * Bulk jobs: jobs by state and items waiting (read from the store at each scrape, so every replica on one Redis
 * reports the same), item runs by outcome and webhooks by outcome (this process's).
 */
@Injectable()
export class JobsMetrics {
  private readonly items: Counter<'outcome'>;
  private readonly webhooks: Counter<'outcome'>;
  private source: () => Promise<JobStats | undefined> = () => Promise.resolve(undefined);

  constructor(registry: Registry) {
    const registers = [registry];
    const stats = (): Promise<JobStats | undefined> => this.source().catch(() => undefined);
    new Gauge({
      name: `${METRIC_PREFIX}jobs`,
      help: 'Bulk jobs in the store, by state (queued, running, completed, cancelled, failed).',
      labelNames: ['state'],
      registers,
      async collect() {
        const current = await stats();
        for (const state of JOB_STATES) this.set({ state }, current?.jobs[state] ?? 0);
      },
    });
    new Gauge({
      name: `${METRIC_PREFIX}job_queue_items`,
      help: 'Bulk job items waiting to be classified (the job queue depth), over every unfinished job.',
      registers,
      async collect() {
        this.set((await stats())?.queuedItems ?? 0);
      },
    });
    this.items = new Counter({
      name: `${METRIC_PREFIX}job_items_total`,
      help: 'Bulk job item runs in this process, by outcome: succeeded, failed (a problem result), deferred (the service was busy: back-pressure), retried (a server failure, tried again), duplicate (a result already written).',
      labelNames: ['outcome'],
      registers,
    });
    this.webhooks = new Counter({
      name: `${METRIC_PREFIX}job_webhooks_total`,
      help: 'Job completion webhooks, by outcome: delivered, failed (no 2xx after every try), refused (address policy).',
      labelNames: ['outcome'],
      registers,
    });
    for (const outcome of ['succeeded', 'failed', 'deferred', 'retried', 'duplicate'])
      this.items.inc({ outcome }, 0);
    for (const outcome of ['delivered', 'failed', 'refused']) this.webhooks.inc({ outcome }, 0);
  }

  /** Where the gauges read from: the store, once it is open. */
  readFrom(source: () => Promise<JobStats | undefined>): void {
    this.source = source;
  }

  itemRun(outcome: ItemRunOutcome): void {
    this.items.inc({ outcome });
  }

  webhook(outcome: WebhookOutcome): void {
    this.webhooks.inc({ outcome });
  }
}
