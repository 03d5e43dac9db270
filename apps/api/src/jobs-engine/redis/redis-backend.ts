import { rm } from 'node:fs/promises';
import { Logger } from '@nestjs/common';
import { DelayedError, Queue, QueueEvents, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { problem } from '@app/problem';
import type { JobBackend } from '../job-backend';
import type { ItemProcessor } from '../item-processor';
import type { JobsMetrics } from '../jobs-metrics';
import type { JobRecord } from '../job-types';
import { jobDirectory, type JobsSettings } from '../jobs-settings';
import { RedisJobStore, type ItemData } from './redis-job-store';

/** The BullMQ queue every replica's worker takes job items from. */
export const QUEUE_NAME = 'food-vision-job-items';
const MIN_BACKOFF_MS = 50;
const MAX_BACKOFF_MS = 2_000;

/**
 * Scale-out: jobs and items on Redis through BullMQ. Each replica runs a BullMQ Worker (JOBS_CONCURRENCY items at
 * once) that holds a lock on each item it runs and renews it (`lockDuration`, JOBS_LEASE_MS); the items of a
 * replica that died are found stalled and handed to another (`stalledInterval`, at most `maxStalledCount` times).
 * A server-side failure is retried by BullMQ with exponential backoff (`attempts`, JOBS_ITEM_ATTEMPTS), and an item
 * BullMQ gives up on (its failed set is the dead-letter list) gets an `internal_error` result. A busy service is
 * back-pressure: the item is delayed without using a try (`moveToDelayed` + `DelayedError`).
 */
export async function redisBackend(
  settings: JobsSettings,
  processor: ItemProcessor,
  metrics: JobsMetrics,
  onFinished: (job: JobRecord) => void,
): Promise<JobBackend> {
  const logger = new Logger('Jobs');
  const url = settings.redisUrl!;
  let lastError = 0;
  const logError = (error: Error): void => {
    if (Date.now() - lastError < 5_000) return;
    lastError = Date.now();
    logger.warn(`Redis (JOBS_REDIS_URL): ${error.message}`);
  };
  // BullMQ's workers need commands that wait out a Redis restart rather than fail (maxRetriesPerRequest: null).
  const connection = new Redis(url, { maxRetriesPerRequest: null, lazyConnect: true });
  connection.on('error', logError);
  await connection.connect().catch((error: unknown) => {
    connection.disconnect();
    throw error;
  });
  const queue = new Queue<ItemData>(QUEUE_NAME, { connection });
  queue.on('error', logError);
  const store = new RedisJobStore(connection, queue, { attempts: settings.attempts }, (jobId) =>
    rm(jobDirectory(settings, jobId), { recursive: true, force: true }),
  );
  let backoff = 0;

  const finished = (job: JobRecord | undefined): void => {
    if (job) onFinished(job);
  };

  const processItem = async (item: Job<ItemData>, token?: string): Promise<string> => {
    const { jobId, index, id, url: itemUrl } = item.data;
    const job = await store.activeJob(jobId);
    if (!job) {
      await store.dropBlob(jobId, index);
      return 'job-ended';
    }
    if (await store.hasResult(jobId, index)) {
      metrics.itemRun('duplicate');
      return 'duplicate';
    }
    await store.started(jobId);
    let source: { kind: 'url'; url: string } | { kind: 'bytes'; bytes: Buffer };
    if (itemUrl !== undefined) {
      source = { kind: 'url', url: itemUrl };
    } else {
      const bytes = await store.blob(jobId, index);
      if (!bytes) {
        const run = processor.failed(
          { jobId, index, id },
          problem('internal_error', "The archive member's bytes are gone from Redis; send the job again."),
        );
        if (run.kind === 'result')
          finished((await store.settle(jobId, index, run.outcome, run.line)).finished);
        return 'missing';
      }
      source = { kind: 'bytes', bytes };
    }
    const run = await processor.run({ jobId, index, id, source, options: job.options });
    switch (run.kind) {
      case 'result': {
        backoff = 0;
        const settled = await store.settle(jobId, index, run.outcome, run.line);
        metrics.itemRun(settled.written ? run.outcome : 'duplicate');
        finished(settled.finished);
        return run.outcome;
      }
      case 'defer': {
        // Back-pressure: this worker slows down, and the item waits without using a try.
        backoff = Math.min(MAX_BACKOFF_MS, Math.max(MIN_BACKOFF_MS, backoff * 2));
        metrics.itemRun('deferred');
        await new Promise((resolve) => setTimeout(resolve, backoff));
        await item.moveToDelayed(Date.now() + MIN_BACKOFF_MS, token);
        throw new DelayedError();
      }
      case 'retry': {
        if (item.attemptsMade + 1 >= settings.attempts) {
          const failed = processor.failed({ jobId, index, id }, run.problem);
          if (failed.kind === 'result') {
            const settled = await store.settle(jobId, index, failed.outcome, failed.line);
            metrics.itemRun(settled.written ? 'failed' : 'duplicate');
            finished(settled.finished);
          }
          return 'failed';
        }
        metrics.itemRun('retried');
        throw new Error(`${run.problem.code}: ${run.problem.detail}`);
      }
      case 'job-failed':
        finished(await store.end(jobId, 'failed', run.problem));
        return 'job-failed';
    }
  };

  const worker = new Worker<ItemData>(QUEUE_NAME, processItem, {
    connection,
    concurrency: settings.concurrency,
    lockDuration: settings.leaseMs,
    stalledInterval: settings.leaseMs,
    maxStalledCount: 5,
  });
  worker.on('error', logError);

  // An item BullMQ gave up on (tries used up, or stalled too often): its result is a problem, so the job ends.
  const events = new QueueEvents(QUEUE_NAME, { connection: connection.duplicate() });
  events.on('error', logError);
  events.on('failed', ({ jobId: itemId, failedReason }) => {
    void (async () => {
      const item = await queue.getJob(itemId);
      if (!item || (item.attemptsMade < settings.attempts && !/stalled/.test(failedReason))) return;
      const { jobId, index, id } = item.data;
      if (await store.hasResult(jobId, index)) return;
      const dead = processor.failed(
        { jobId, index, id },
        problem(
          'internal_error',
          `The server failed to classify this item after every try (${failedReason}).`,
        ),
      );
      if (dead.kind === 'result')
        finished((await store.settle(jobId, index, dead.outcome, dead.line)).finished);
    })().catch((error: unknown) => logError(error as Error));
  });

  return {
    store,
    wake: () => undefined,
    pendingWebhooks: () => store.pendingWebhooks(),
    markWebhook: (jobId) => store.markWebhook(jobId),
    ended: () => undefined,
    close: async () => {
      await worker.close();
      await events.close();
      await queue.close();
      connection.disconnect();
    },
  };
}
