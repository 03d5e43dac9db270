import type { JobStore } from './job-store';
import type { JobRecord } from './job-types';

/** A store with the machinery that works its items off: the embedded runner, or BullMQ workers. */
export interface JobBackend {
  readonly store: JobStore;
  /** A job was created: start on it now rather than at the next poll. */
  wake(): void;
  /** Finished jobs whose webhook was not sent yet (after a crash too). */
  pendingWebhooks(): Promise<JobRecord[]>;
  /** Records that a job's webhook was sent or given up; false when another process already did. */
  markWebhook(jobId: string, state: 'sent' | 'failed'): Promise<boolean>;
  /** The job's end reached this process (a cancel, or its last item): drop what it no longer needs. */
  ended(job: JobRecord): void;
  close(): Promise<void>;
}
