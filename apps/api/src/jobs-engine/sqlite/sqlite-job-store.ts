import { mkdirSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import type { JobStore } from '../job-store';
import {
  JOB_STATES,
  type ClaimedItem,
  type ItemOutcome,
  type ItemProblem,
  type JobRecord,
  type JobState,
  type NewJob,
  type ResultLine,
  type ResultOrder,
} from '../job-types';
import { openDatabase, type DatabaseSync, type SqlValue } from './sqlite-api';
import { SCHEMA } from './schema';

const PAGE = 500;
const ACTIVE = "('queued', 'running')";

/** What settling an item did: whether this call wrote its result, and the job if that finished it. */
export interface Settled {
  written: boolean;
  finished?: JobRecord;
}

/**
 * Jobs in one SQLite file under JOBS_DIR (`jobs.sqlite`, WAL), for one process: the embedded default. Every
 * change is one synchronous transaction, so no other work of this process runs in its middle, and a crash
 * leaves either all of it or none of it.
 */
export class SqliteJobStore implements JobStore {
  readonly kind = 'sqlite';
  private readonly db: DatabaseSync;

  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
    this.db = openDatabase(join(dir, 'jobs.sqlite'));
    this.db.exec('PRAGMA journal_mode = WAL');
    this.db.exec('PRAGMA synchronous = NORMAL');
    this.db.exec('PRAGMA foreign_keys = ON');
    this.db.exec(SCHEMA);
  }

  /** The folder an archive's members are extracted into; nothing of a job is written outside it. */
  jobDirectory(jobId: string): string {
    return join(this.dir, 'jobs', jobId);
  }

  close(): void {
    this.db.close();
  }

  create(job: NewJob): Promise<{ job: JobRecord; created: boolean }> {
    return settled(() =>
      this.transaction(() => {
        if (job.idempotencyKey !== undefined) {
          const existing = this.db
            .prepare('SELECT * FROM jobs WHERE owner = ? AND idempotency_key = ?')
            .get(job.owner, job.idempotencyKey);
          if (existing) return { job: toRecord(existing), created: false };
        }
        const now = Date.now();
        this.db
          .prepare(
            `INSERT INTO jobs (id, owner, idempotency_key, fingerprint, state, options, input_kind, total, created_at)
             VALUES (?, ?, ?, ?, 'queued', ?, ?, ?, ?)`,
          )
          .run(
            job.id,
            job.owner,
            job.idempotencyKey ?? null,
            job.fingerprint,
            JSON.stringify(job.options),
            job.inputKind,
            job.items.length,
            now,
          );
        const insertItem = this.db.prepare(
          `INSERT INTO items (job_id, idx, item_id, url, file, state) VALUES (?, ?, ?, ?, ?, ?)`,
        );
        const jobDir = this.jobDirectory(job.id);
        const refused: Array<{ index: number; id: string; problem: ItemProblem }> = [];
        job.items.forEach((item, index) => {
          if (item.kind === 'refused') {
            insertItem.run(job.id, index, item.id, null, null, 'done');
            refused.push({ index, id: item.id, problem: item.problem });
          } else if (item.kind === 'url') {
            insertItem.run(job.id, index, item.id, item.url, null, 'queued');
          } else {
            insertItem.run(job.id, index, item.id, null, insideJob(jobDir, item.path), 'queued');
          }
        });
        for (const { index, id, problem } of refused) {
          this.writeResult(job.id, index, 'failed', { id, index, problem });
        }
        if (refused.length > 0) {
          this.db.prepare('UPDATE jobs SET failed = ? WHERE id = ?').run(refused.length, job.id);
        }
        this.finishIfDone(job.id, now);
        return { job: this.record(job.id)!, created: true };
      }),
    );
  }

  get(owner: string, id: string): Promise<JobRecord | undefined> {
    const row = this.db.prepare('SELECT * FROM jobs WHERE id = ? AND owner = ?').get(id, owner);
    return settled(row ? toRecord(row) : undefined);
  }

  list(owner: string, limit: number): Promise<JobRecord[]> {
    const rows = this.db
      .prepare('SELECT * FROM jobs WHERE owner = ? ORDER BY created_at DESC, id LIMIT ?')
      .all(owner, limit);
    return settled(rows.map(toRecord));
  }

  cancel(owner: string, id: string): Promise<JobRecord | undefined> {
    return settled(() =>
      this.transaction(() => {
        const row = this.db.prepare('SELECT state FROM jobs WHERE id = ? AND owner = ?').get(id, owner);
        if (!row) return undefined;
        if (row.state === 'queued' || row.state === 'running') {
          this.db
            .prepare(
              `UPDATE jobs SET state = 'cancelled', finished_at = ?, webhook_state = 'pending' WHERE id = ?`,
            )
            .run(Date.now(), id);
          this.db
            .prepare(`UPDATE items SET state = 'cancelled' WHERE job_id = ? AND state = 'queued'`)
            .run(id);
        }
        return this.record(id);
      }),
    );
  }

  async *results(jobId: string, order: ResultOrder): AsyncIterable<ResultLine[]> {
    const key = order === 'input' ? 'idx' : 'seq';
    const page = this.db.prepare(
      `SELECT ${key} AS k, line FROM results WHERE job_id = ? AND ${key} > ? ORDER BY ${key} LIMIT ${PAGE}`,
    );
    let after = -1;
    for (;;) {
      // Each page is a short synchronous read; other requests run between pages.
      await new Promise((resolve) => setImmediate(resolve));
      const rows = page.all(jobId, after);
      if (rows.length === 0) return;
      after = Number(rows[rows.length - 1].k);
      yield rows.map((row) => JSON.parse(String(row.line)) as ResultLine);
      if (rows.length < PAGE) return;
    }
  }

  pendingItems(owner: string): Promise<number> {
    const row = this.db
      .prepare(
        `SELECT COALESCE(SUM(total - succeeded - failed), 0) AS n FROM jobs WHERE owner = ? AND state IN ${ACTIVE}`,
      )
      .get(owner);
    return settled(Number(row?.n ?? 0));
  }

  stats(): Promise<{ jobs: Record<JobState, number>; queuedItems: number }> {
    const jobs = Object.fromEntries(JOB_STATES.map((state) => [state, 0])) as Record<JobState, number>;
    for (const row of this.db.prepare('SELECT state, COUNT(*) AS n FROM jobs GROUP BY state').all()) {
      jobs[row.state as JobState] = Number(row.n);
    }
    const queued = this.db.prepare(`SELECT COUNT(*) AS n FROM items WHERE state = 'queued'`).get();
    return settled({ jobs, queuedItems: Number(queued?.n ?? 0) });
  }

  // The runner's side.

  /** Items a dead process had claimed go back to the queue (one process per JOBS_DIR: none is running now). */
  recoverInterrupted(): number {
    return Number(this.db.prepare(`UPDATE items SET state = 'queued' WHERE state = 'running'`).run().changes);
  }

  /** Claims the next waiting item of the oldest unfinished job, or undefined when none is due. */
  claim(now = Date.now()): ClaimedItem | undefined {
    return this.transaction(() => {
      const jobs = this.db
        .prepare(`SELECT id, options FROM jobs WHERE state IN ${ACTIVE} ORDER BY created_at, rowid`)
        .all();
      const next = this.db.prepare(
        `SELECT idx, item_id, url, file, attempts FROM items
         WHERE job_id = ? AND state = 'queued' AND not_before <= ? ORDER BY idx LIMIT 1`,
      );
      for (const job of jobs) {
        const item = next.get(String(job.id), now);
        if (!item) continue;
        const jobId = String(job.id);
        this.db
          .prepare(`UPDATE items SET state = 'running', attempts = attempts + 1 WHERE job_id = ? AND idx = ?`)
          .run(jobId, item.idx);
        this.db
          .prepare(`UPDATE jobs SET state = 'running', started_at = ? WHERE id = ? AND state = 'queued'`)
          .run(now, jobId);
        return {
          jobId,
          index: Number(item.idx),
          id: String(item.item_id),
          attempts: Number(item.attempts) + 1,
          source:
            item.url !== null
              ? { kind: 'url', url: String(item.url) }
              : { kind: 'file', path: join(this.jobDirectory(jobId), String(item.file)) },
          options: JSON.parse(String(job.options)) as ClaimedItem['options'],
        };
      }
      return undefined;
    });
  }

  /** The earliest time a deferred item becomes due, if any item waits. */
  nextDue(): number | undefined {
    const row = this.db
      .prepare(
        `SELECT MIN(items.not_before) AS t FROM items JOIN jobs ON jobs.id = items.job_id
         WHERE items.state = 'queued' AND jobs.state IN ${ACTIVE}`,
      )
      .get();
    return row?.t === null || row?.t === undefined ? undefined : Number(row.t);
  }

  /**
   * Writes the item's result, moves the item to done and counts it, in one transaction; a second write of the
   * same item (a run repeated after a crash) changes nothing. Finishes the job with its last item.
   */
  settle(item: ClaimedItem, outcome: ItemOutcome, line: ResultLine): Settled {
    return this.transaction(() => {
      const state = this.db.prepare('SELECT state FROM jobs WHERE id = ?').get(item.jobId)?.state;
      if (state === undefined) return { written: false };
      if (!this.writeResult(item.jobId, item.index, outcome, line)) return { written: false };
      this.db
        .prepare(`UPDATE items SET state = 'done' WHERE job_id = ? AND idx = ?`)
        .run(item.jobId, item.index);
      this.db.prepare(`UPDATE jobs SET ${outcome} = ${outcome} + 1 WHERE id = ?`).run(item.jobId);
      const finished = this.finishIfDone(item.jobId, Date.now());
      return { written: true, ...(finished ? { finished } : {}) };
    });
  }

  /** Puts a claimed item back, due again after `delayMs`; `countAttempt` false when the try was not its fault. */
  defer(item: ClaimedItem, delayMs: number, countAttempt: boolean): void {
    this.db
      .prepare(
        `UPDATE items SET state = 'queued', not_before = ?, attempts = attempts - ? WHERE job_id = ? AND idx = ? AND state = 'running'`,
      )
      .run(Date.now() + delayMs, countAttempt ? 0 : 1, item.jobId, item.index);
  }

  /** The job cannot go on (its model is no longer served): it fails with `problem`, its waiting items with it. */
  failJob(jobId: string, problem: ItemProblem): JobRecord | undefined {
    return this.transaction(() => {
      const changed = this.db
        .prepare(
          `UPDATE jobs SET state = 'failed', finished_at = ?, problem = ?, webhook_state = 'pending' WHERE id = ? AND state IN ${ACTIVE}`,
        )
        .run(Date.now(), JSON.stringify(problem), jobId).changes;
      if (Number(changed) === 0) return undefined;
      this.db
        .prepare(`UPDATE items SET state = 'cancelled' WHERE job_id = ? AND state IN ${ACTIVE}`)
        .run(jobId);
      return this.record(jobId);
    });
  }

  /** Finished jobs whose webhook is still to be sent (after a crash too). */
  pendingWebhooks(): JobRecord[] {
    return this.db
      .prepare(`SELECT * FROM jobs WHERE webhook_state = 'pending' AND options LIKE '%"webhookUrl"%'`)
      .all()
      .map(toRecord);
  }

  markWebhook(jobId: string, state: 'sent' | 'failed'): void {
    this.db.prepare('UPDATE jobs SET webhook_state = ? WHERE id = ?').run(state, jobId);
  }

  /** Jobs finished with files still on disk (their members are no longer needed). */
  finishedJobIds(): string[] {
    return this.db
      .prepare(`SELECT id FROM jobs WHERE state NOT IN ${ACTIVE} AND input_kind = 'archive'`)
      .all()
      .map((row) => String(row.id));
  }

  private writeResult(jobId: string, index: number, outcome: ItemOutcome, line: ResultLine): boolean {
    const inserted = this.db
      .prepare(
        `INSERT INTO results (job_id, idx, outcome, line) VALUES (?, ?, ?, ?) ON CONFLICT (job_id, idx) DO NOTHING`,
      )
      .run(jobId, index, outcome, JSON.stringify(line));
    return Number(inserted.changes) === 1;
  }

  private finishIfDone(jobId: string, now: number): JobRecord | undefined {
    const changed = this.db
      .prepare(
        `UPDATE jobs SET state = 'completed', finished_at = ?, started_at = COALESCE(started_at, ?), webhook_state = 'pending'
         WHERE id = ? AND state IN ${ACTIVE} AND succeeded + failed = total`,
      )
      .run(now, now, jobId).changes;
    return Number(changed) === 1 ? this.record(jobId) : undefined;
  }

  private record(id: string): JobRecord | undefined {
    const row = this.db.prepare('SELECT * FROM jobs WHERE id = ?').get(id);
    return row ? toRecord(row) : undefined;
  }

  private transaction<T>(work: () => T): T {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const result = work();
      this.db.exec('COMMIT');
      return result;
    } catch (error) {
      this.db.exec('ROLLBACK');
      throw error;
    }
  }
}

/** A member file's path relative to its job's folder; refuses one that is not inside it. */
function insideJob(jobDir: string, path: string): string {
  const rel = relative(jobDir, resolve(path));
  if (rel === '' || rel.startsWith('..') || rel.startsWith(sep) || resolve(jobDir, rel) !== resolve(path)) {
    throw new Error(`an item file must be inside its job's folder: ${path}`);
  }
  return rel;
}

function optional(value: SqlValue | undefined): number | undefined {
  return value === null || value === undefined ? undefined : Number(value);
}

function toRecord(row: Record<string, SqlValue>): JobRecord {
  const total = Number(row.total);
  const succeeded = Number(row.succeeded);
  const failed = Number(row.failed);
  const state = String(row.state) as JobState;
  return {
    id: String(row.id),
    owner: String(row.owner),
    state,
    options: JSON.parse(String(row.options)) as JobRecord['options'],
    inputKind: String(row.input_kind) as JobRecord['inputKind'],
    ...(row.idempotency_key !== null ? { idempotencyKey: String(row.idempotency_key) } : {}),
    fingerprint: String(row.fingerprint),
    counts: { total, succeeded, failed, pending: total - succeeded - failed },
    createdAt: Number(row.created_at),
    ...(optional(row.started_at) !== undefined ? { startedAt: optional(row.started_at) } : {}),
    ...(optional(row.finished_at) !== undefined ? { finishedAt: optional(row.finished_at) } : {}),
    ...(row.problem !== null && row.problem !== undefined
      ? { problem: JSON.parse(String(row.problem)) as ItemProblem }
      : {}),
  };
}

/** The value of a synchronous store call as a promise: a throw becomes a rejection, never a synchronous throw. */
function settled<T>(value: T | (() => T)): Promise<T> {
  return new Promise<T>((resolve) => resolve(typeof value === 'function' ? (value as () => T)() : value));
}
