import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { BuiltApp } from './build';
import { load } from './clients';
import type { LoadResult } from './load';
import { startServer } from './server';

export interface JobsCost {
  items: number;
  /** Interactive uploads at 8 connections, alone (before the job, and after it was cancelled) and while it runs. */
  alone: LoadResult;
  aloneAfter: LoadResult;
  withJob: LoadResult;
  /** Job items finished per second with nothing else running, and while the interactive load ran. */
  jobRateAlone: number;
  jobRateDuringInteractive: number;
  /** Items the job had finished when the measurements ended (it is then cancelled). */
  finished: number;
}

interface JobStatus {
  id: string;
  state: string;
  counts: { succeeded: number; failed: number; total: number };
}

async function jobStatus(baseUrl: string, id: string): Promise<JobStatus> {
  const response = await fetch(`${baseUrl}/v1/jobs/${id}`);
  if (!response.ok) throw new Error(`GET /v1/jobs/${id} answered ${response.status}`);
  return (await response.json()) as JobStatus;
}

const done = (job: JobStatus) => job.counts.succeeded + job.counts.failed;

/** Items finished per second over `seconds`, measured from the job's own counts. */
async function jobRate(
  baseUrl: string,
  id: string,
  seconds: number,
  during?: Promise<unknown>,
): Promise<number> {
  const before = await jobStatus(baseUrl, id);
  const started = performance.now();
  if (during) await during;
  else await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const after = await jobStatus(baseUrl, id);
  return (done(after) - done(before)) / ((performance.now() - started) / 1000);
}

/**
 * A bulk job beside interactive traffic: interactive uploads at 8 connections alone; then a job of `items` photo
 * URLs is started and its rate measured with nothing else running; then the interactive load again while the job
 * runs (its items take the background lane, below interactive requests), with the job's rate meanwhile.
 */
export async function measureJobsCost(options: {
  app: BuiltApp;
  env: Record<string, string>;
  urls: string[];
  items: number;
  seconds: number;
  tmp: string;
  log: (line: string) => void;
}): Promise<JobsCost> {
  const { app, env, urls, items, seconds, tmp, log } = options;
  const jobsDir = mkdtempSync(join(tmp, 'jobs-'));
  const server = await startServer({
    entry: app.entry,
    env: { ...env, JOBS_DIR: jobsDir, JOBS_MAX_ITEMS: String(Math.max(items, 100_000)) },
    logFile: join(tmp, 'server-jobs.log'),
  });
  try {
    const interactive = {
      kind: 'post' as const,
      url: `${server.baseUrl}/v1/predictions`,
      connections: 8,
      bodies: 'uploads' as const,
      duration: seconds,
    };
    // A whole round to warm up: the first seconds of load are slower (JIT, the workers' first photos).
    await load(interactive);
    const alone = await load(interactive);
    log(`interactive alone: ${alone.requestsPerSecond.toFixed(1)} req/s, p99 ${alone.p99} ms`);
    const response = await fetch(`${server.baseUrl}/v1/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        items: Array.from({ length: items }, (_, n) => ({
          id: `bench-${n}`,
          url: `${urls[n % urls.length]}?n=${n}`,
        })),
      }),
    });
    if (response.status !== 201)
      throw new Error(`POST /v1/jobs answered ${response.status}: ${await response.text()}`);
    const { id } = (await response.json()) as JobStatus;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const jobRateAlone = await jobRate(server.baseUrl, id, seconds);
    log(`job alone: ${jobRateAlone.toFixed(1)} items/s`);
    let withJob: LoadResult | undefined;
    const jobRateDuringInteractive = await jobRate(
      server.baseUrl,
      id,
      seconds,
      load(interactive).then((result) => (withJob = result)),
    );
    log(
      `interactive with the job: ${withJob!.requestsPerSecond.toFixed(1)} req/s, p99 ${withJob!.p99} ms; job meanwhile ${jobRateDuringInteractive.toFixed(1)} items/s`,
    );
    const finished = done(await jobStatus(server.baseUrl, id));
    await fetch(`${server.baseUrl}/v1/jobs/${id}`, { method: 'DELETE' });
    // Alone once more, the job cancelled: the machine's own noise shows as the gap between the two.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const aloneAfter = await load(interactive);
    log(
      `interactive alone again: ${aloneAfter.requestsPerSecond.toFixed(1)} req/s, p99 ${aloneAfter.p99} ms`,
    );
    return { items, alone, aloneAfter, withJob: withJob!, jobRateAlone, jobRateDuringInteractive, finished };
  } finally {
    await server.stop();
    rmSync(jobsDir, { recursive: true, force: true });
  }
}

export function renderJobsCost(cost: JobsCost, seconds: number, workers: string): string {
  const { alone, aloneAfter, withJob } = cost;
  const ratio = withJob.p99 / Math.max(1, (alone.p99 + aloneAfter.p99) / 2);
  return [
    '## Bulk jobs beside interactive traffic',
    '',
    `The Food-101 MobileNet int8 fixture, ${workers}; a job of ${cost.items} photo URLs (the 13 shared photos, each a distinct item) from a local image server; interactive uploads through \`POST /v1/predictions\` at 8 connections for ${seconds} s each. Job items take the background lane: a worker runs one only when no interactive request waits, at most BACKGROUND_WORKERS at once.`,
    '',
    '| | interactive req/s | interactive p50 ms | interactive p99 ms | job items/s |',
    '| --- | --- | --- | --- | --- |',
    `| interactive alone | ${alone.requestsPerSecond.toFixed(1)} | ${alone.p50} | ${alone.p99} | – |`,
    `| job alone | – | – | – | ${cost.jobRateAlone.toFixed(1)} |`,
    `| interactive alone again (job cancelled) | ${aloneAfter.requestsPerSecond.toFixed(1)} | ${aloneAfter.p50} | ${aloneAfter.p99} | – |`,
    `| interactive while the job runs | ${withJob.requestsPerSecond.toFixed(1)} | ${withJob.p50} | ${withJob.p99} | ${cost.jobRateDuringInteractive.toFixed(1)} |`,
    '',
    `Interactive p99 with the job running is ${ratio.toFixed(2)}× its mean value alone (the goal: at most 1.5×); the job finished ${cost.finished} items before it was cancelled at the end of the run.`,
    '',
  ].join('\n');
}
