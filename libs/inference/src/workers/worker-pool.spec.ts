import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Logger } from '@nestjs/common';
import { ProblemError } from '@app/problem';
import type { TestTask, TestWorkerSetup } from '../../../../test/fixtures/workers/test-worker';
import { WorkerCrashedError, WorkerPool, WorkerStartTimeoutError } from './worker-pool';

const WORKER = join(__dirname, '..', '..', '..', '..', 'test', 'fixtures', 'workers', 'test-worker.ts');

type TestPool = WorkerPool<
  TestWorkerSetup,
  TestTask,
  { value: number; threadId: number },
  { threadId: number }
>;

let pool: TestPool | undefined;

async function startPool(
  size: number,
  setup: TestWorkerSetup = {},
  stuckTaskMs?: number,
  stopGraceMs?: number,
) {
  const started = await WorkerPool.start<
    TestWorkerSetup,
    TestTask,
    { value: number; threadId: number },
    { threadId: number }
  >({ file: WORKER, size, setup, name: 'TestWorkers', restartDelayMs: 50, stuckTaskMs, stopGraceMs });
  pool = started.pool;
  return started;
}

afterEach(async () => {
  await pool?.close();
  pool = undefined;
  vi.restoreAllMocks();
});

describe('WorkerPool start deadline', () => {
  it('terminates workers whose load stalls past startTimeoutMs and says in which step', async () => {
    const started = Date.now();
    const error = await WorkerPool.start<TestWorkerSetup, TestTask, unknown, unknown>({
      file: WORKER,
      size: 2,
      setup: { stallAtStart: 'building the model in TF.js layers' },
      name: 'StallingWorkers',
      startTimeoutMs: 20_000,
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(WorkerStartTimeoutError);
    expect((error as Error).message).toBe(
      'The worker did not become ready within 20 s (last step: building the model in TF.js layers) and was stopped.',
    );
    expect(Date.now() - started).toBeLessThan(40_000);
  }, 60_000);

  it('lets a slow load that finishes within the deadline start', async () => {
    const started = await WorkerPool.start<
      TestWorkerSetup,
      TestTask,
      { value: number; threadId: number },
      { threadId: number }
    >({
      file: WORKER,
      size: 1,
      setup: { startDelayMs: 300 },
      name: 'SlowWorkers',
      startTimeoutMs: 40_000,
    });
    pool = started.pool;
    await expect(pool.run({ kind: 'echo', value: 2 })).resolves.toMatchObject({ value: 4 });
  }, 60_000);
});

describe('WorkerPool', () => {
  it('starts every worker, then spreads tasks over them, each answered with its own result', async () => {
    const { infos } = await startPool(2);
    expect(new Set(infos.map((info) => info.threadId)).size).toBe(2);
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => pool!.run({ kind: 'echo', value: i })),
    );
    expect(results.map((result) => result.value)).toEqual([0, 2, 4, 6, 8, 10, 12, 14]);
    expect(new Set(results.map((result) => result.threadId)).size).toBe(2);
    expect(pool!.stats()).toMatchObject({ size: 2, ready: 2, busy: 0, waiting: 0, crashes: 0 });
  });

  it('rebuilds a problem thrown in a worker with its status and code, and other errors with their message', async () => {
    await startPool(1);
    const error = await pool!.run({ kind: 'problem' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ProblemError);
    expect(error).toMatchObject({ status: 422, code: 'unsupported_image' });
    await expect(pool!.run({ kind: 'throw' })).rejects.toThrow('something broke');
    await expect(pool!.run({ kind: 'echo', value: 1 })).resolves.toMatchObject({ value: 2 });
  });

  it('fails only the task of a worker that dies, replaces the worker, and keeps serving', async () => {
    await startPool(1);
    await expect(pool!.run({ kind: 'exit', code: 3 })).rejects.toBeInstanceOf(WorkerCrashedError);
    await vi.waitFor(() => expect(pool!.stats().ready).toBe(1), { timeout: 10_000 });
    await expect(pool!.run({ kind: 'echo', value: 21 })).resolves.toMatchObject({ value: 42 });
    expect(pool!.stats()).toMatchObject({ ready: 1, crashes: 1 });
  });

  it('fails the task of a worker stopped on purpose (a stuck one) and replaces it', async () => {
    await startPool(1);
    const [threadId] = pool!.threadIds();
    const stuck = pool!.run({ kind: 'hang' });
    await vi.waitFor(() => expect(pool!.stats().busy).toBe(1));
    expect(await pool!.replaceWorker(threadId)).toBe(true);
    await expect(stuck).rejects.toThrow(/stopped and replaced/);
    await expect(pool!.run({ kind: 'echo', value: 5 })).resolves.toMatchObject({ value: 10 });
    expect(pool!.threadIds()).not.toContain(threadId);
  });

  it('stops a worker stuck in an endless loop past stuckTaskMs, fails only its task, and replaces it', async () => {
    await startPool(2, {}, 300);
    const before = pool!.threadIds();
    const stuck = pool!.run({ kind: 'spin' });
    // The other worker keeps answering while one spins.
    const others = await Promise.all(
      Array.from({ length: 6 }, (_, i) => pool!.run({ kind: 'echo', value: i })),
    );
    expect(others.map((result) => result.value)).toEqual([0, 2, 4, 6, 8, 10]);
    const error = await stuck.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(WorkerCrashedError);
    expect((error as Error).message).toMatch(/more than 300 ms.*stuck/);
    await vi.waitFor(() => expect(pool!.stats().ready).toBe(2), { timeout: 10_000 });
    expect(pool!.threadIds()).toHaveLength(2);
    expect(pool!.threadIds().filter((id) => !before.includes(id))).toHaveLength(1);
    await expect(pool!.run({ kind: 'echo', value: 4 })).resolves.toMatchObject({ value: 8 });
    expect(pool!.stats()).toMatchObject({ ready: 2, crashes: 1 });
  });

  it('leaves a task that finishes within stuckTaskMs alone', async () => {
    await startPool(1, {}, 5_000);
    await expect(pool!.run({ kind: 'echo', value: 3 })).resolves.toMatchObject({ value: 6 });
    expect(pool!.stats().crashes).toBe(0);
  });

  it('does not start when a worker cannot load, and says why', async () => {
    await expect(startPool(2, { failToStart: 'The model file is missing.' })).rejects.toThrow(
      'The model file is missing.',
    );
  });

  it("logs a worker's lines through the main thread's logger", async () => {
    const warn = vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    await startPool(1);
    await pool!.run({ kind: 'log', message: 'careful' });
    await vi.waitFor(() => expect(warn).toHaveBeenCalledWith('careful'));
  });
});

describe('WorkerPool close', () => {
  it('lets a running task finish and deliver its result before the worker exits', async () => {
    await startPool(1);
    const running = pool!.run({ kind: 'sleep', ms: 300 });
    await vi.waitFor(() => expect(pool!.stats().busy).toBe(1));
    const closed = pool!.close();
    await expect(running).resolves.toMatchObject({ value: 300 });
    await closed;
    expect(pool!.threadIds()).toEqual([]);
  });

  it('refuses tasks after close', async () => {
    await startPool(1);
    await pool!.close();
    await expect(pool!.run({ kind: 'echo', value: 1 })).rejects.toThrow('The worker pool is closed.');
  });

  it('terminates a worker whose task does not end within stopGraceMs, failing that task', async () => {
    await startPool(1, {}, undefined, 200);
    const stuck = pool!.run({ kind: 'hang' });
    await vi.waitFor(() => expect(pool!.stats().busy).toBe(1));
    const started = Date.now();
    await pool!.close();
    expect(Date.now() - started).toBeLessThan(5_000);
    await expect(stuck).rejects.toThrow(/did not stop within 200 ms/);
  });

  it('lets a worker that is still loading finish its load before it exits, when another failed to start', async () => {
    const started = Date.now();
    const error = await startPool(2, {
      failToStartOnOddThread: 'The model file is missing.',
      startDelayMs: 1_500,
    }).catch((caught: unknown) => caught);
    expect((error as Error).message).toBe('The model file is missing.');
    // The failure is reported once the other worker has ended its load and exited, not by cutting it off.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_500);
  });
});
