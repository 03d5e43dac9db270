import type { JobRecord, JobState, NewJob, ResultLine, ResultOrder } from './job-types';

/** What the jobs API asks of wherever jobs live: the embedded SQLite file or Redis (BullMQ). */
export interface JobStore {
  /** `sqlite` (embedded, one process) or `redis` (every replica on the same Redis). */
  readonly kind: 'sqlite' | 'redis';
  /**
   * Stores the job and queues its items; or, when the owner already made a job with this idempotency key,
   * returns that one (`created: false`) and stores nothing.
   */
  create(job: NewJob): Promise<{ job: JobRecord; created: boolean }>;
  /** The owner's job, or undefined (another owner's job is not found either). */
  get(owner: string, id: string): Promise<JobRecord | undefined>;
  /** The owner's jobs, newest first. */
  list(owner: string, limit: number): Promise<JobRecord[]>;
  /** Cancels the owner's job if it has not finished; undefined when there is no such job. */
  cancel(owner: string, id: string): Promise<JobRecord | undefined>;
  /** The results written so far, page by page, in input or completion order. */
  results(jobId: string, order: ResultOrder): AsyncIterable<ResultLine[]>;
  /** Items of the owner's unfinished jobs still waiting for a result (the item quota counts them). */
  pendingItems(owner: string): Promise<number>;
  /** Jobs by state and items waiting, for the metrics. */
  stats(): Promise<{ jobs: Record<JobState, number>; queuedItems: number }>;
}

export const JOB_STORE = Symbol('JOB_STORE');
