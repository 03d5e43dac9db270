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
    const abandoned = queue.submit('abandoned', { signal: client.signal });
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
    expect((await rejection(queue.submit('late', { signal: AbortSignal.abort() }))).code).toBe(
      'client_closed_request',
    );
    expect(runner.started).toEqual([]);
  });

  it('answers a running task whose client left at once, but keeps its slot until the work ends', async () => {
    const runner = controlledRunner();
    const queue = new AdmissionQueue({ concurrency: 1, maxQueue: 5, timeoutMs: 60_000 }, runner.run);
    const client = new AbortController();
    const running = queue.submit('running', { signal: client.signal });
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

  describe('the background lane', () => {
    const options = {
      concurrency: 2,
      maxQueue: 10,
      timeoutMs: 60_000,
      background: { concurrency: 1, maxQueue: 3 },
    };

    it('uses a runner only when no interactive task waits, and at most its own cap of them', async () => {
      const runner = controlledRunner();
      const queue = new AdmissionQueue(options, runner.run);
      const background = ['b1', 'b2', 'b3'].map((task) => queue.submit(task, { lane: 'background' }));
      await flush();
      // One runner stays free for interactive work although three background tasks wait.
      expect(runner.started).toEqual(['b1']);
      const interactive = ['i1', 'i2', 'i3'].map((task) => queue.submit(task));
      await flush();
      expect(runner.started).toEqual(['b1', 'i1']);
      runner.finish('b1');
      await flush();
      // The freed runner goes to the interactive task that waited, not to the next background one.
      expect(runner.started).toEqual(['b1', 'i1', 'i2']);
      runner.finish('i1');
      await flush();
      expect(runner.started).toEqual(['b1', 'i1', 'i2', 'i3']);
      runner.finish('i2');
      await flush();
      expect(runner.started.at(-1)).toBe('b2');
      expect(queue.stats()).toMatchObject({
        running: 2,
        queued: 0,
        completed: 2,
        background: { concurrency: 1, running: 1, queued: 1, completed: 1, started: 2 },
      });
      for (const task of ['i3', 'b2']) runner.finish(task);
      await flush();
      runner.finish('b3');
      await expect(Promise.all([...background, ...interactive])).resolves.toHaveLength(6);
    });

    it('refuses background work past its own queue, while interactive work is still taken', async () => {
      const runner = controlledRunner();
      const queue = new AdmissionQueue(options, runner.run);
      const kept = ['b1', 'b2', 'b3', 'b4'].map((task) => queue.submit(task, { lane: 'background' }));
      const refused = await rejection(queue.submit('b5', { lane: 'background' }));
      expect(refused.code).toBe('overloaded');
      expect(refused.detail).toMatch(/Background work .* 3 images are waiting/);
      const interactive = queue.submit('i1');
      await flush();
      expect(runner.started).toEqual(['b1', 'i1']);
      expect(queue.stats()).toMatchObject({ overloaded: 0, background: { overloaded: 1, queued: 3 } });
      for (const task of ['b1', 'i1']) runner.finish(task);
      await flush();
      for (const task of ['b2', 'b3', 'b4']) {
        runner.finish(task);
        await flush();
      }
      await expect(Promise.all([...kept, interactive])).resolves.toHaveLength(5);
    });

    it('lets background work use the only runner when nothing interactive waits', async () => {
      const runner = controlledRunner();
      const queue = new AdmissionQueue({ concurrency: 1, maxQueue: 5, timeoutMs: 60_000 }, runner.run);
      const background = queue.submit('b1', { lane: 'background' });
      await flush();
      expect(runner.started).toEqual(['b1']);
      expect(queue.stats().background).toMatchObject({ concurrency: 1, maxQueue: 64 });
      runner.finish('b1');
      await expect(background).resolves.toBe('done b1');
    });
  });
});
