import { describe, expect, it } from 'vitest';
import { ProblemError } from '@app/problem';
import { AdmissionQueue } from './admission-queue';

/** A runner whose tasks finish only when the test says so, and which records what it was asked to run. */
function controlledRunner() {
  const started: string[] = [];
  const finishers = new Map<string, (value: string) => void>();
  const run = (task: string) =>
    new Promise<string>((resolve) => {
      started.push(task);
      finishers.set(task, (value) => resolve(value));
    });
  const finish = (task: string) => finishers.get(task)!(`done ${task}`);
  return { started, run, finish };
}

async function rejection(promise: Promise<unknown>): Promise<ProblemError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ProblemError);
    return error as ProblemError;
  }
  throw new Error('expected a rejection');
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('AdmissionQueue', () => {
  it('runs at most `concurrency` tasks at once, the others in arrival order', async () => {
    const runner = controlledRunner();
    const queue = new AdmissionQueue({ concurrency: 2, maxQueue: 10, timeoutMs: 60_000 }, runner.run);
    const results = ['a', 'b', 'c', 'd'].map((task) => queue.submit(task));
    expect(runner.started).toEqual(['a', 'b']);
    expect(queue.stats()).toMatchObject({ running: 2, queued: 2 });
    runner.finish('b');
    await flush();
    expect(runner.started).toEqual(['a', 'b', 'c']);
    runner.finish('a');
    runner.finish('c');
    await flush();
    runner.finish('d');
    expect(await Promise.all(results)).toEqual(['done a', 'done b', 'done c', 'done d']);
    expect(queue.stats()).toMatchObject({ running: 0, queued: 0, started: 4, completed: 4 });
  });

  it('refuses at once with 503 overloaded and a Retry-After when the queue is full, without running the task', async () => {
    const runner = controlledRunner();
    const queue = new AdmissionQueue({ concurrency: 1, maxQueue: 1, timeoutMs: 60_000 }, runner.run);
    const first = queue.submit('running');
    const second = queue.submit('queued');
    const error = await rejection(queue.submit('refused'));
    expect(error.status).toBe(503);
    expect(error.code).toBe('overloaded');
    expect(error.extensions.retry_after_seconds).toBeGreaterThanOrEqual(1);
    expect(runner.started).toEqual(['running']);
    expect(queue.stats()).toMatchObject({ overloaded: 1, queued: 1 });
    runner.finish('running');
    await flush();
    runner.finish('queued');
    expect(await Promise.all([first, second])).toEqual(['done running', 'done queued']);
  });

  it('drops a queued task whose client went away: it never runs', async () => {
    const runner = controlledRunner();
    const queue = new AdmissionQueue({ concurrency: 1, maxQueue: 5, timeoutMs: 60_000 }, runner.run);
    const first = queue.submit('running');
    const client = new AbortController();
    const abandoned = queue.submit('abandoned', client.signal);
    client.abort();
    expect((await rejection(abandoned)).code).toBe('client_closed_request');
    runner.finish('running');
    await first;
    await flush();
    expect(runner.started).toEqual(['running']);
    expect(queue.stats()).toMatchObject({ abandoned: 1, started: 1, queued: 0 });
  });

  it('refuses a task whose client is already gone without queueing it', async () => {
    const runner = controlledRunner();
    const queue = new AdmissionQueue({ concurrency: 1, maxQueue: 5, timeoutMs: 60_000 }, runner.run);
    expect((await rejection(queue.submit('late', AbortSignal.abort()))).code).toBe('client_closed_request');
    expect(runner.started).toEqual([]);
  });

  it('answers a running task whose client left at once, but keeps its slot until the work ends', async () => {
    const runner = controlledRunner();
    const queue = new AdmissionQueue({ concurrency: 1, maxQueue: 5, timeoutMs: 60_000 }, runner.run);
    const client = new AbortController();
    const running = queue.submit('running', client.signal);
    const next = queue.submit('next');
    client.abort();
    expect((await rejection(running)).code).toBe('client_closed_request');
    expect(runner.started).toEqual(['running']);
    runner.finish('running');
    await flush();
    expect(runner.started).toEqual(['running', 'next']);
    runner.finish('next');
    expect(await next).toBe('done next');
  });

  it('gives 503 inference_timeout past the deadline; a task that waited that long never runs', async () => {
    const runner = controlledRunner();
    const queue = new AdmissionQueue({ concurrency: 1, maxQueue: 5, timeoutMs: 50 }, runner.run);
    const running = queue.submit('running');
    const waiting = queue.submit('waiting');
    const [runningError, waitingError] = await Promise.all([rejection(running), rejection(waiting)]);
    expect([runningError.code, waitingError.code]).toEqual(['inference_timeout', 'inference_timeout']);
    expect(waitingError.status).toBe(503);
    runner.finish('running');
    await flush();
    expect(runner.started).toEqual(['running']);
    expect(queue.stats()).toMatchObject({ timedOut: 2, running: 0, queued: 0 });
  });

  it('passes a task failure through to its caller and carries on', async () => {
    const queue = new AdmissionQueue({ concurrency: 1, maxQueue: 5, timeoutMs: 60_000 }, (task: string) =>
      task === 'bad' ? Promise.reject(new Error('bad image')) : Promise.resolve(task),
    );
    await expect(queue.submit('bad')).rejects.toThrow('bad image');
    await expect(queue.submit('good')).resolves.toBe('good');
    expect(queue.stats()).toMatchObject({ failed: 1, completed: 1 });
  });
});
