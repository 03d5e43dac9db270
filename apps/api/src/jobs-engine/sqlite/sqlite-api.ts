/**
 * The part of Node's built-in `node:sqlite` the job store uses (Node ≥ 22.5, stable enough in 24; no native
 * download). Loaded through `process.getBuiltinModule`, typed here, since @types/node 20 does not declare it.
 */
export type SqlValue = null | number | bigint | string | Uint8Array;

export interface StatementSync {
  run(...parameters: SqlValue[]): { changes: number | bigint; lastInsertRowid: number | bigint };
  get(...parameters: SqlValue[]): Record<string, SqlValue> | undefined;
  all(...parameters: SqlValue[]): Array<Record<string, SqlValue>>;
}

export interface DatabaseSync {
  exec(sql: string): void;
  prepare(sql: string): StatementSync;
  close(): void;
}

interface SqliteModule {
  DatabaseSync: new (path: string, options?: { timeout?: number }) => DatabaseSync;
}

export function openDatabase(path: string): DatabaseSync {
  const sqlite = process.getBuiltinModule('node:sqlite') as SqliteModule | undefined;
  if (!sqlite) throw new Error('node:sqlite is not available: the embedded job store needs Node.js 24.');
  return new sqlite.DatabaseSync(path, { timeout: 5_000 });
}
