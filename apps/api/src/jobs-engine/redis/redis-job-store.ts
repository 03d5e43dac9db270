import { readFile } from 'node:fs/promises';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { JobStore } from '../job-store';
import {
  JOB_STATES,
  type ItemOutcome,
  type ItemProblem,
  type JobRecord,
  type JobState,
  type NewJob,
  type ResultLine,
  type ResultOrder,
} from '../job-types';
import { END, SETTLE, START } from './redis-scripts';

export const PREFIX = 'fv:jobs';
const PAGE = 500;
const ADD_BATCH = 1000;

/** What a BullMQ item carries: its job, its index and id, and its URL (an archive member's bytes are in Redis). */
export interface ItemData {
  jobId: string;
  index: number;
  id: string;
  url?: string;
}

const key = {
  job: (id: string) => `${PREFIX}:job:${id}`,
  results: (id: string) => `${PREFIX}:results:${id}`,
  done: (id: string) => `${PREFIX}:done:${id}`,
  blob: (id: string, index: number) => `${PREFIX}:blob:${id}:${index}`,
  owner: (owner: string) => `${PREFIX}:owner:${owner}`,
  pending: (owner: string) => `${PREFIX}:pending:${owner}`,
  idempotency: (owner: string, idempotencyKey: string) => `${PREFIX}:idem:${owner}:${idempotencyKey}`,
  state: (state: JobState) => `${PREFIX}:state:${state}`,
  webhooks: `${PREFIX}:webhooks`,
};

type Scripts = Redis & {
  jobSettle(job: string, results: string, done: string, ...args: string[]): Promise<number>;
  jobStart(job: string, ...args: string[]): Promise<string | null>;
  jobEnd(job: string, ...args: string[]): Promise<number>;
};

/**
 * Jobs on Redis, shared by every replica: a hash per job, its results in a hash keyed by item index (HSETNX:
 * written once), their completion order in a list, and the items themselves as BullMQ jobs in one queue (an
 * archive member's bytes in a key of their own until the item has its result).
 */
export class RedisJobStore implements JobStore {
  readonly kind = 'redis';
  private readonly redis: Scripts;

  constructor(
    redis: Redis,
    private readonly queue: Queue<ItemData>,
    private readonly itemOptions: { attempts: number },
    /** Removes the local folder an archive was taken into, once its members are in Redis. */
    private readonly removeLocal: (jobId: string) => Promise<void>,
  ) {
    redis.defineCommand('jobSettle', { numberOfKeys: 3, lua: SETTLE });
    redis.defineCommand('jobStart', { numberOfKeys: 1, lua: START });
    redis.defineCommand('jobEnd', { numberOfKeys: 1, lua: END });
    this.redis = redis as Scripts;
  }

  /**
   * The job is written whole (record, members, items in the queue) before its idempotency key points at it and
   * before it is listed: a process that dies half-way leaves a job nobody is pointed to, so the client's retry
   * with the same key makes a whole new one rather than getting a job with items missing.
   */
  async create(job: NewJob): Promise<{ job: JobRecord; created: boolean }> {
    const idempotency =
      job.idempotencyKey === undefined ? undefined : key.idempotency(job.owner, job.idempotencyKey);
    const earlier = idempotency ? await this.jobOfKey(idempotency) : undefined;
    if (earlier) return { job: earlier, created: false };
    const now = Date.now();
    const transaction = this.redis.multi();
    transaction.hset(key.job(job.id), {
      id: job.id,
      owner: job.owner,
      state: 'queued',
      options: JSON.stringify(job.options),
      input_kind: job.inputKind,
      fingerprint: job.fingerprint,
      total: job.items.length,
      succeeded: 0,
      failed: 0,
      created_at: now,
      ...(job.idempotencyKey !== undefined ? { idempotency_key: job.idempotencyKey } : {}),
    });
    transaction.sadd(key.state('queued'), job.id);
    transaction.incrby(key.pending(job.owner), job.items.length);
    await transaction.exec();
    // An archive's members go to Redis, where any replica can read them.
    for (const [index, item] of job.items.entries()) {
      if (item.kind === 'file') await this.redis.set(key.blob(job.id, index), await readFile(item.path));
    }
    await this.removeLocal(job.id);
    for (const [index, item] of job.items.entries()) {
      if (item.kind === 'refused')
        await this.settle(job.id, index, 'failed', { id: item.id, index, problem: item.problem });
    }
    const queued = job.items.flatMap((item, index) =>
      item.kind === 'refused'
        ? []
        : [{ jobId: job.id, index, id: item.id, ...(item.kind === 'url' ? { url: item.url } : {}) }],
    );
    for (let start = 0; start < queued.length; start += ADD_BATCH) {
      await this.queue.addBulk(
        queued.slice(start, start + ADD_BATCH).map((data) => ({
          name: 'item',
          data,
          opts: {
            jobId: `${data.jobId}.${data.index}`,
            attempts: this.itemOptions.attempts,
            backoff: { type: 'exponential', delay: 500 },
            removeOnComplete: true,
            removeOnFail: { count: 10_000 },
          },
        })),
      );
    }
    if (idempotency && (await this.redis.set(idempotency, job.id, 'NX')) !== 'OK') {
      // Another request with the same key won the race: this job is withdrawn, the other one answered.
      await this.end(job.id, 'cancelled');
      await this.redis.srem(key.webhooks, job.id);
      const winner = await this.jobOfKey(idempotency);
      if (winner) return { job: winner, created: false };
    }
    await this.redis.zadd(key.owner(job.owner), now, job.id);
    return { job: (await this.record(job.id))!, created: true };
  }

  private async jobOfKey(idempotency: string): Promise<JobRecord | undefined> {
    const id = await this.redis.get(idempotency);
    return id ? this.record(id) : undefined;
  }

  async get(owner: string, id: string): Promise<JobRecord | undefined> {
    const job = await this.record(id);
    return job?.owner === owner ? job : undefined;
  }

  async list(owner: string, limit: number): Promise<JobRecord[]> {
    const ids = await this.redis.zrevrange(key.owner(owner), 0, limit - 1);
    const jobs = await Promise.all(ids.map((id) => this.record(id)));
    return jobs.filter((job): job is JobRecord => job !== undefined);
  }

  async cancel(owner: string, id: string): Promise<JobRecord | undefined> {
    const job = await this.get(owner, id);
    if (!job) return undefined;
    await this.end(id, 'cancelled');
    return this.record(id);
  }

  async *results(jobId: string, order: ResultOrder): AsyncIterable<ResultLine[]> {
    const total = Number(await this.redis.hget(key.job(jobId), 'total'));
    for (let start = 0; ; start += PAGE) {
      let indices: string[];
      if (order === 'input') {
        if (start >= total) return;
        indices = Array.from({ length: Math.min(PAGE, total - start) }, (_, n) => String(start + n));
      } else {
        indices = await this.redis.lrange(key.done(jobId), start, start + PAGE - 1);
        if (indices.length === 0) return;
      }
      const lines = await this.redis.hmget(key.results(jobId), ...indices);
      const page = lines.flatMap((line) => (line === null ? [] : [JSON.parse(line) as ResultLine]));
      if (page.length > 0) yield page;
      if (order === 'completion' && indices.length < PAGE) return;
    }
  }

  async pendingItems(owner: string): Promise<number> {
    return Number((await this.redis.get(key.pending(owner))) ?? 0);
  }

  async stats(): Promise<{ jobs: Record<JobState, number>; queuedItems: number }> {
    const counts = await Promise.all(JOB_STATES.map((state) => this.redis.scard(key.state(state))));
    const jobs = Object.fromEntries(JOB_STATES.map((state, n) => [state, counts[n]])) as Record<
      JobState,
      number
    >;
    const waiting = await this.queue.getJobCounts('waiting', 'delayed', 'prioritized');
    return { jobs, queuedItems: Object.values(waiting).reduce((sum, count) => sum + count, 0) };
  }

  // The worker's side.

  /** The job of an item, if it is still unfinished (a cancelled or failed job's items are dropped). */
  async activeJob(jobId: string): Promise<JobRecord | undefined> {
    const job = await this.record(jobId);
    return job && (job.state === 'queued' || job.state === 'running') ? job : undefined;
  }

  hasResult(jobId: string, index: number): Promise<boolean> {
    return this.redis.hexists(key.results(jobId), String(index)).then((exists) => exists === 1);
  }

  async started(jobId: string): Promise<void> {
    await this.redis.jobStart(key.job(jobId), PREFIX, jobId, String(Date.now()));
  }

  async dropBlob(jobId: string, index: number): Promise<void> {
    await this.redis.del(key.blob(jobId, index));
  }

  blob(jobId: string, index: number): Promise<Buffer | null> {
    return this.redis.getBuffer(key.blob(jobId, index));
  }

  /** Writes an item's result once; returns the job when this result finished it. */
  async settle(
    jobId: string,
    index: number,
    outcome: ItemOutcome,
    line: ResultLine,
  ): Promise<{ written: boolean; finished?: JobRecord }> {
    const status = await this.redis.jobSettle(
      key.job(jobId),
      key.results(jobId),
      key.done(jobId),
      PREFIX,
      jobId,
      String(index),
      JSON.stringify(line),
      outcome,
      String(Date.now()),
    );
    await this.redis.del(key.blob(jobId, index));
    if (status === 0) return { written: false };
    return status === 2 ? { written: true, finished: await this.record(jobId) } : { written: true };
  }

  /** Ends an unfinished job (cancelled, or failed with `problem`); returns it when this call ended it. */
  async end(
    jobId: string,
    state: 'cancelled' | 'failed',
    problem?: ItemProblem,
  ): Promise<JobRecord | undefined> {
    const ended = await this.redis.jobEnd(
      key.job(jobId),
      PREFIX,
      jobId,
      state,
      String(Date.now()),
      problem ? JSON.stringify(problem) : '',
    );
    return ended === 1 ? this.record(jobId) : undefined;
  }

  async pendingWebhooks(): Promise<JobRecord[]> {
    const ids = await this.redis.smembers(key.webhooks);
    const jobs = await Promise.all(ids.map((id) => this.record(id)));
    const withoutUrl = jobs.filter((job) => job && !job.options.webhookUrl).map((job) => job!.id);
    if (withoutUrl.length > 0) await this.redis.srem(key.webhooks, ...withoutUrl);
    return jobs.filter((job): job is JobRecord => job?.options.webhookUrl !== undefined);
  }

  async markWebhook(jobId: string): Promise<boolean> {
    return (await this.redis.srem(key.webhooks, jobId)) === 1;
  }

  private async record(id: string): Promise<JobRecord | undefined> {
    const row = await this.redis.hgetall(key.job(id));
    if (!row.id) return undefined;
    const total = Number(row.total);
    const succeeded = Number(row.succeeded);
    const failed = Number(row.failed);
    const number = (value: string | undefined) => (value === undefined ? undefined : Number(value));
    return {
      id: row.id,
      owner: row.owner,
      state: row.state as JobState,
      options: JSON.parse(row.options) as JobRecord['options'],
      inputKind: row.input_kind as JobRecord['inputKind'],
      ...(row.idempotency_key !== undefined ? { idempotencyKey: row.idempotency_key } : {}),
      fingerprint: row.fingerprint,
      counts: { total, succeeded, failed, pending: total - succeeded - failed },
      createdAt: Number(row.created_at),
      ...(row.started_at !== undefined ? { startedAt: number(row.started_at) } : {}),
      ...(row.finished_at !== undefined ? { finishedAt: number(row.finished_at) } : {}),
      ...(row.problem !== undefined ? { problem: JSON.parse(row.problem) as ItemProblem } : {}),
    };
  }
}
