import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NewJob, ResultLine } from '../job-types';
import { SqliteJobStore } from './sqlite-job-store';

const job = (id: string, count: number, extra: Partial<NewJob> = {}): NewJob => ({
  id,
  owner: 'anonymous',
  options: {},
  inputKind: 'json',
  fingerprint: `fp-${id}`,
  items: Array.from({ length: count }, (_, n) => ({
    id: `i${n}`,
    kind: 'url' as const,
    url: `http://x.test/${n}`,
  })),
  ...extra,
});
const line = (index: number): ResultLine => ({ id: `i${index}`, index, prediction: { label: 'pizza' } });

describe('the embedded job store', () => {
  let dir: string;
  let store: SqliteJobStore;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sqlite-store-'));
    store = new SqliteJobStore(dir);
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes an item result once: a second settle of the same item changes nothing', async () => {
    await store.create(job('a', 2));
    const first = store.claim()!;
    expect(store.settle(first, 'succeeded', line(first.index)).written).toBe(true);
    expect(store.settle(first, 'failed', { id: 'i0', index: 0, problem: { code: 'x' } as never })).toEqual({
      written: false,
    });
    const record = (await store.get('anonymous', 'a'))!;
    expect(record.counts).toEqual({ total: 2, succeeded: 1, failed: 0, pending: 1 });
    expect(record.state).toBe('running');
    const second = store.claim()!;
    const settled = store.settle(second, 'succeeded', line(second.index));
    expect(settled.finished?.state).toBe('completed');
    const pages: ResultLine[][] = [];
    for await (const page of store.results('a', 'input')) pages.push(page);
    expect(pages.flat().map((result) => result.id)).toEqual(['i0', 'i1']);
  });

  it('queues again, after a restart, the items a dead process had claimed', async () => {
    await store.create(job('b', 3));
    const claimed = [store.claim()!, store.claim()!];
    store.settle(claimed[0], 'succeeded', line(claimed[0].index));
    store.close();
    store = new SqliteJobStore(dir);
    expect(store.recoverInterrupted()).toBe(1);
    const again = [store.claim()!, store.claim()!];
    expect(again.map((item) => item.index).sort()).toEqual([1, 2]);
    expect(again.find((item) => item.index === 1)!.attempts).toBe(2);
    expect(store.claim()).toBeUndefined();
  });

  it('works the oldest job first, and defers a busy item without counting a try', async () => {
    await store.create(job('old', 1));
    await store.create(job('new', 1));
    const item = store.claim()!;
    expect(item.jobId).toBe('old');
    store.defer(item, 60_000, false);
    expect(store.claim()!.jobId).toBe('new');
    expect(store.claim()).toBeUndefined();
    expect(store.nextDue()).toBeGreaterThan(Date.now());
    const later = store.claim(Date.now() + 61_000)!;
    expect(later).toMatchObject({ jobId: 'old', attempts: 1 });
  });

  it('returns the job an idempotency key made, and counts only unfinished items in the quota', async () => {
    const first = await store.create(job('c', 4, { idempotencyKey: 'k' }));
    const again = await store.create(job('d', 4, { idempotencyKey: 'k' }));
    expect(first.created).toBe(true);
    expect(again).toMatchObject({ created: false, job: { id: 'c' } });
    expect(await store.pendingItems('anonymous')).toBe(4);
    await store.cancel('anonymous', 'c');
    expect(await store.pendingItems('anonymous')).toBe(0);
    expect(store.claim()).toBeUndefined();
    expect((await store.stats()).jobs).toMatchObject({ cancelled: 1, running: 0, queued: 0 });
  });

  it('stores refused items as results at once, and completes a job made only of them', async () => {
    const refused = {
      id: 'bad',
      kind: 'refused' as const,
      problem: { type: 't', title: 'x', status: 422, detail: 'd', code: 'archive_member_refused' },
    };
    const { job: created } = await store.create(job('e', 0, { items: [refused] }));
    expect(created.state).toBe('completed');
    expect(created.counts).toEqual({ total: 1, succeeded: 0, failed: 1, pending: 0 });
  });

  it('refuses an item file outside its job folder', async () => {
    await expect(
      store.create(job('f', 0, { items: [{ id: 'x', kind: 'file', path: join(dir, '..', 'elsewhere') }] })),
    ).rejects.toThrow(/inside its job's folder/);
    expect(await store.get('anonymous', 'f')).toBeUndefined();
  });
});
