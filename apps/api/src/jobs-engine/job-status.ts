import type { JobRecord } from './job-types';
import type { CloudEvent } from './webhook/completion-webhook';

/** A job as `GET /v1/jobs/{id}` answers it (and as the completion webhook carries it). */
export interface JobStatusBody {
  id: string;
  state: JobRecord['state'];
  input: JobRecord['inputKind'];
  counts: JobRecord['counts'];
  /** Items finished per second since the job started. */
  rate_per_second: number;
  /** Seconds until the last item at that rate; null when not running or not yet measurable. */
  eta_seconds: number | null;
  model?: string;
  model_version?: string;
  top_k?: number;
  webhook_url?: string;
  idempotency_key?: string;
  created_at: string;
  started_at?: string;
  finished_at?: string;
  results_url: string;
  problem?: JobRecord['problem'];
}

const iso = (ms: number | undefined): string | undefined =>
  ms === undefined ? undefined : new Date(ms).toISOString();

export function jobStatusBody(job: JobRecord, now = Date.now()): JobStatusBody {
  const done = job.counts.succeeded + job.counts.failed;
  const elapsedSeconds = job.startedAt === undefined ? 0 : ((job.finishedAt ?? now) - job.startedAt) / 1000;
  const rate = elapsedSeconds > 0 ? done / elapsedSeconds : 0;
  const running = job.state === 'running' || job.state === 'queued';
  const eta = running && rate > 0 ? job.counts.pending / rate : job.counts.pending === 0 ? 0 : null;
  const body: JobStatusBody = {
    id: job.id,
    state: job.state,
    input: job.inputKind,
    counts: job.counts,
    rate_per_second: Math.round(rate * 100) / 100,
    eta_seconds: eta === null ? null : Math.round(eta * 10) / 10,
    model: job.options.model,
    model_version: job.options.modelVersion,
    top_k: job.options.topK,
    webhook_url: job.options.webhookUrl,
    idempotency_key: job.idempotencyKey,
    created_at: iso(job.createdAt)!,
    started_at: iso(job.startedAt),
    finished_at: iso(job.finishedAt),
    results_url: `/v1/jobs/${job.id}/results`,
    problem: job.problem,
  };
  return Object.fromEntries(Object.entries(body).filter(([, value]) => value !== undefined)) as JobStatusBody;
}

/** The CloudEvent a job's end is announced with: `com.foodvision.job.<state>`, id = the job's id. */
export function jobEndEvent(job: JobRecord): CloudEvent {
  return {
    specversion: '1.0',
    id: `${job.id}.${job.state}`,
    source: '/v1/jobs',
    type: `com.foodvision.job.${job.state}`,
    subject: job.id,
    time: new Date(job.finishedAt ?? Date.now()).toISOString(),
    datacontenttype: 'application/json',
    data: jobStatusBody(job),
  };
}
