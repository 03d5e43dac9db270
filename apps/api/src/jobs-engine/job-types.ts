/** A job's life: `queued` until an item starts, `running`, then one of the three ends. */
export const JOB_STATES = ['queued', 'running', 'completed', 'cancelled', 'failed'] as const;
export type JobState = (typeof JOB_STATES)[number];

export const FINISHED_STATES: readonly JobState[] = ['completed', 'cancelled', 'failed'];

/** How the client sent the job's items. */
export type JobInputKind = 'json' | 'jsonl' | 'archive';

/** What every item of a job is classified with. */
export interface JobOptions {
  model?: string;
  modelVersion?: string;
  topK?: number;
  /** The completion webhook (CloudEvents), already checked against the address policy. */
  webhookUrl?: string;
}

/** One item as the intake hands it over: its id, and where its photo is or why it was refused at intake. */
export type NewItem =
  | { id: string; kind: 'url'; url: string }
  | { id: string; kind: 'file'; path: string }
  | { id: string; kind: 'refused'; problem: ItemProblem };

/** A problem body, as `/v1` would send it for this photo (RFC 9457 fields and `code`). */
export interface ItemProblem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  instance?: string;
  [extension: string]: unknown;
}

/** One line of the results: the item's id and its prediction or its problem. */
export type ResultLine = { id: string; index: number } & (
  { prediction: Record<string, unknown> } | { problem: ItemProblem }
);

export type ItemOutcome = 'succeeded' | 'failed';

export interface NewJob {
  id: string;
  owner: string;
  options: JobOptions;
  inputKind: JobInputKind;
  idempotencyKey?: string;
  /** A digest of the request, so a reused idempotency key with another request is told apart. */
  fingerprint: string;
  items: NewItem[];
}

export interface JobCounts {
  total: number;
  succeeded: number;
  failed: number;
  pending: number;
}

export interface JobRecord {
  id: string;
  owner: string;
  state: JobState;
  options: JobOptions;
  inputKind: JobInputKind;
  idempotencyKey?: string;
  fingerprint: string;
  counts: JobCounts;
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
  /** Why the job failed, when it did. */
  problem?: ItemProblem;
}

/** The order of the results: the items' order in the input, or the order they finished in. */
export type ResultOrder = 'input' | 'completion';

/** An item claimed by a runner: where its photo is, and how many times it was tried. */
export interface ClaimedItem {
  jobId: string;
  index: number;
  id: string;
  attempts: number;
  source: { kind: 'url'; url: string } | { kind: 'file'; path: string };
  options: JobOptions;
}
