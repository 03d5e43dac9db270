import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { EnvironmentVariables } from '../config/environment';
import type { JobBackend } from './job-backend';
import { jobEndEvent } from './job-status';
import type { JobStore } from './job-store';
import type { JobRecord } from './job-types';
import { ItemProcessor } from './item-processor';
import { JobsMetrics } from './jobs-metrics';
import { jobDirectory, jobsSettings, type JobsSettings } from './jobs-settings';
import { redisBackend } from './redis/redis-backend';
import { sqliteBackend } from './sqlite/sqlite-backend';
import { CompletionWebhook } from './webhook/completion-webhook';

/**
 * Where jobs live and who works them off: the embedded SQLite store and runner (the default, opened on the first
 * job or at start when a store is already there, so a restart picks up where it stopped), or BullMQ on Redis
 * (`JOBS_REDIS_URL`, connected at start so this replica takes items at once). Sends each job's end webhook.
 */
@Injectable()
export class JobsEngine implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly settings: JobsSettings;
  private readonly logger = new Logger('Jobs');
  private readonly webhook: CompletionWebhook;
  private opening?: Promise<JobBackend>;
  private closed = false;

  constructor(
    config: ConfigService<EnvironmentVariables, true>,
    private readonly processor: ItemProcessor,
    private readonly metrics: JobsMetrics,
  ) {
    this.settings = jobsSettings(config);
    this.webhook = new CompletionWebhook({
      allowHosts: this.settings.allowHosts,
      allowedPorts: this.settings.allowedPorts,
    });
    metrics.readFrom(async () => (this.opening ? (await this.opening).store.stats() : undefined));
  }

  /** Opens the store at start when there is one (Redis, or an embedded store left by a previous run). */
  onApplicationBootstrap(): void {
    if (this.settings.redisUrl || existsSync(join(this.settings.dir, 'jobs.sqlite'))) this.openInBackground();
  }

  /** Redis may be down when the service starts: the service starts anyway, and tries again every 5 s. */
  private openInBackground(): void {
    this.backend()
      .then(async (backend) => {
        for (const job of await backend.pendingWebhooks()) this.finished(job);
      })
      .catch((error: unknown) => {
        if (this.closed) return;
        this.logger.warn(
          `Jobs: the store cannot be opened yet (${error instanceof Error ? error.message : String(error)}); trying again in 5 s`,
        );
        setTimeout(() => this.openInBackground(), 5_000).unref();
      });
  }

  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    if (this.opening) await (await this.opening).close();
  }

  async store(): Promise<JobStore> {
    return (await this.backend()).store;
  }

  /** The folder a job's uploaded files are taken into; nothing of the job is written outside it. */
  jobDirectory(jobId: string): string {
    return jobDirectory(this.settings, jobId);
  }

  /** A job was stored: its items are started on now (one whose every item was refused has already ended). */
  async created(job: JobRecord): Promise<void> {
    (await this.backend()).wake();
    if (job.state === 'completed') this.finished(job);
  }

  /** A job was cancelled through the API. */
  async cancelled(job: JobRecord): Promise<void> {
    (await this.backend()).ended(job);
    this.finished(job);
  }

  private backend(): Promise<JobBackend> {
    if (this.closed) return Promise.reject(new Error('the jobs engine is shut down'));
    this.opening ??= this.open().catch((error: unknown) => {
      this.opening = undefined;
      throw error;
    });
    return this.opening;
  }

  private async open(): Promise<JobBackend> {
    const onFinished = (job: JobRecord): void => this.finished(job);
    if (this.settings.redisUrl) {
      const backend = await redisBackend(this.settings, this.processor, this.metrics, onFinished);
      this.logger.log('Jobs: BullMQ on Redis (JOBS_REDIS_URL); this replica takes items');
      return backend;
    }
    const backend = sqliteBackend(this.settings, this.processor, this.metrics, onFinished);
    this.logger.log(`Jobs: embedded store in ${this.settings.dir}`);
    return backend;
  }

  /** A job ended: its webhook, if it has one, is sent (tried again on failure) and marked. */
  private finished(job: JobRecord): void {
    const url = job.options.webhookUrl;
    if (!url) return;
    void (async () => {
      const outcome = await this.webhook.send(url, jobEndEvent(job));
      this.metrics.webhook(outcome);
      if (outcome !== 'delivered') this.logger.warn(`Job ${job.id}: webhook ${outcome}`);
      if (!this.closed)
        await (await this.backend()).markWebhook(job.id, outcome === 'delivered' ? 'sent' : 'failed');
    })().catch((error: unknown) => this.logger.warn(`Job ${job.id}: webhook: ${String(error)}`));
  }
}
