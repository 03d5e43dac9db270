import type { JobBackend } from '../job-backend';
import type { ItemProcessor } from '../item-processor';
import type { JobsMetrics } from '../jobs-metrics';
import type { JobRecord } from '../job-types';
import type { JobsSettings } from '../jobs-settings';
import { EmbeddedRunner } from './embedded-runner';
import { SqliteJobStore } from './sqlite-job-store';

/** The embedded default: jobs in `JOBS_DIR/jobs.sqlite`, worked off by this process. */
export function sqliteBackend(
  settings: JobsSettings,
  processor: ItemProcessor,
  metrics: JobsMetrics,
  onFinished: (job: JobRecord) => void,
): JobBackend {
  const store = new SqliteJobStore(settings.dir);
  const runner = new EmbeddedRunner(store, processor, metrics, {
    concurrency: settings.concurrency,
    attempts: settings.attempts,
    onFinished,
  });
  runner.start();
  return {
    store,
    wake: () => runner.wake(),
    pendingWebhooks: () => Promise.resolve(store.pendingWebhooks()),
    markWebhook: (jobId, state) => {
      store.markWebhook(jobId, state);
      return Promise.resolve(true);
    },
    ended: (job) => runner.ended(job),
    close: async () => {
      await runner.stop();
      store.close();
    },
  };
}
