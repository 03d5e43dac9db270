/**
 * The embedded store's tables. An item's result is a row of `results`, unique per (job, item): writing it and
 * moving the item and the job's counts happen in one transaction, so after any crash an item has either no
 * result (and runs again) or exactly one.
 */
export const SCHEMA = `
CREATE TABLE IF NOT EXISTS jobs (
  id TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  idempotency_key TEXT,
  fingerprint TEXT NOT NULL,
  state TEXT NOT NULL,
  options TEXT NOT NULL,
  input_kind TEXT NOT NULL,
  total INTEGER NOT NULL,
  succeeded INTEGER NOT NULL DEFAULT 0,
  failed INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  started_at INTEGER,
  finished_at INTEGER,
  problem TEXT,
  webhook_state TEXT,
  UNIQUE (owner, idempotency_key)
);
CREATE INDEX IF NOT EXISTS jobs_by_owner ON jobs (owner, created_at);
CREATE TABLE IF NOT EXISTS items (
  job_id TEXT NOT NULL,
  idx INTEGER NOT NULL,
  item_id TEXT NOT NULL,
  url TEXT,
  file TEXT,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  not_before INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (job_id, idx)
);
CREATE INDEX IF NOT EXISTS items_of_job ON items (job_id, state, idx);
CREATE INDEX IF NOT EXISTS items_by_state ON items (state);
CREATE TABLE IF NOT EXISTS results (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  job_id TEXT NOT NULL,
  idx INTEGER NOT NULL,
  outcome TEXT NOT NULL,
  line TEXT NOT NULL,
  UNIQUE (job_id, idx)
);
`;
