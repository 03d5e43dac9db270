import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HTTP } from 'cloudevents';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageServer } from '../support/image-server';
import {
  checkResults,
  getJob,
  jobItems,
  readResults,
  startPhotoServer,
  waitForJob,
  type JobStatus,
} from '../support/jobs';
import type { FoodPhoto } from '../support/shared-data';
import { FIXTURE_MODELS } from '../support/shared-data';
import { startTestApp, type RunningApp } from '../support/test-app';

const KEY_A = 'key-a-0123456789';
const KEY_B = 'key-b-0123456789';

/** A CloudEvents receiver on 127.0.0.1: every request it got, with its headers and body. */
async function startReceiver(): Promise<{
  url: string;
  received: Array<{ headers: IncomingMessage['headers']; body: string }>;
  close(): Promise<void>;
}> {
  const received: Array<{ headers: IncomingMessage['headers']; body: string }> = [];
  const server: Server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    request.on('end', () => {
      received.push({ headers: request.headers, body });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/hooks/jobs`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('bulk jobs over HTTP (embedded store)', () => {
  let running: RunningApp;
  let images: ImageServer;
  let photos: FoodPhoto[];
  let jobsDir: string;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  const auth = (key: string) => ({ 'x-api-key': key });
  const post = (body: unknown, key = KEY_A, headers: Record<string, string> = {}) =>
    fetch(`${running.baseUrl}/v1/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth(key), ...headers },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    ({ server: images, photos } = await startPhotoServer());
    receiver = await startReceiver();
    jobsDir = mkdtempSync(join(tmpdir(), 'jobs-api-'));
    running = await startTestApp(FIXTURE_MODELS.food101Tflite, {
      JOBS_DIR: jobsDir,
      API_KEYS: `${KEY_A},${KEY_B}`,
      JOBS_MAX_ITEMS: '400',
      INFERENCE_WORKERS: '2',
    });
  });

  afterAll(async () => {
    await running?.close();
    await images?.close();
    await receiver?.close();
    rmSync(jobsDir, { recursive: true, force: true });
  });

  it('classifies a list of URLs, one result per item, and sends a CloudEvent when it completes', async () => {
    const items = jobItems(images, photos, 60);
    const response = await post({
      items: items.map(({ id, url }) => ({ id, url })),
      top_k: 5,
      webhook_url: receiver.url,
    });
    expect(response.status).toBe(201);
    const created = (await response.json()) as JobStatus;
    expect(response.headers.get('location')).toBe(`/v1/jobs/${created.id}`);
    expect(created.counts.total).toBe(60);
    const done = await waitForJob(running.baseUrl, created.id, undefined, 120_000, auth(KEY_A));
    expect(done.state).toBe('completed');
    expect(done.counts.succeeded + done.counts.failed).toBe(60);
    expect(done.counts.pending).toBe(0);
    expect(done.eta_seconds).toBe(0);

    const unauthenticated = await fetch(`${running.baseUrl}/v1/jobs/${created.id}/results`);
    expect(unauthenticated.status).toBe(401);
    const parsed = await readResults(running.baseUrl, created.id, 'input', auth(KEY_A));
    const { top1, photos: photoItems } = checkResults(parsed, items);
    expect(top1).toBeGreaterThanOrEqual(Math.floor((photoItems * 12) / 13) - 1);
    expect(parsed.map((line) => line.index)).toEqual(items.map((_, index) => index));
    const broken = parsed.find((line) => line.id === 'item-00007');
    expect(broken?.problem).toMatchObject({
      status: 422,
      code: 'upstream_not_image',
      instance: `/v1/jobs/${created.id}#/items/7`,
    });

    const completionIds = (await readResults(running.baseUrl, created.id, 'completion', auth(KEY_A))).map(
      (line) => line.id,
    );
    expect([...completionIds].sort()).toEqual(items.map((item) => item.id).sort());

    await expect.poll(() => receiver.received.length, { timeout: 15_000 }).toBe(1);
    const [delivery] = receiver.received;
    expect(delivery.headers['content-type']).toMatch(/^application\/cloudevents\+json/);
    const event = HTTP.toEvent({ headers: delivery.headers, body: delivery.body });
    const single = Array.isArray(event) ? event[0] : event;
    expect(single.type).toBe('com.foodvision.job.completed');
    expect(single.subject).toBe(created.id);
    expect(single.data).toMatchObject({
      id: created.id,
      state: 'completed',
      counts: { total: 60, pending: 0 },
    });
  }, 120_000);

  it('returns the same job for the same idempotency key, and 409 for that key with another request', async () => {
    const body = { items: [images.url('/p/0.jpg?idem=1')], idempotency_key: 'idem-1' };
    const first = await post(body);
    expect(first.status).toBe(201);
    const job = (await first.json()) as JobStatus;
    const again = await post(body);
    expect(again.status).toBe(200);
    expect(((await again.json()) as JobStatus).id).toBe(job.id);
    const header = await post({ items: body.items }, KEY_A, { 'idempotency-key': 'idem-1' });
    expect(header.status).toBe(200);
    const other = await post({ items: [images.url('/p/1.jpg')], idempotency_key: 'idem-1' });
    expect(other.status).toBe(409);
    expect(other.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(((await other.json()) as { code: string }).code).toBe('idempotency_key_reused');
    // Another key's idempotency keys are its own.
    const otherKey = await post(body, KEY_B);
    expect(otherKey.status).toBe(201);
  });

  it('keeps each key to its own jobs and its item quota', async () => {
    const mine = (await (await post({ items: [images.url('/p/2.jpg?own=1')] })).json()) as JobStatus;
    const theirs = await fetch(`${running.baseUrl}/v1/jobs/${mine.id}`, { headers: auth(KEY_B) });
    expect(theirs.status).toBe(404);
    expect(((await theirs.json()) as { code: string }).code).toBe('job_not_found');
    const list = (await (await fetch(`${running.baseUrl}/v1/jobs`, { headers: auth(KEY_A) })).json()) as {
      jobs: JobStatus[];
    };
    expect(list.jobs.map((job) => job.id)).toContain(mine.id);
    const listB = (await (await fetch(`${running.baseUrl}/v1/jobs`, { headers: auth(KEY_B) })).json()) as {
      jobs: JobStatus[];
    };
    expect(listB.jobs.map((job) => job.id)).not.toContain(mine.id);

    const tooMany = await post(
      { items: Array.from({ length: 401 }, (_, n) => images.url(`/p/0.jpg?q=${n}`)) },
      KEY_B,
    );
    expect(tooMany.status).toBe(413);
    expect(((await tooMany.json()) as { code: string }).code).toBe('too_many_items');
    expect((await fetch(`${running.baseUrl}/v1/jobs`)).status).toBe(401);
  });

  it('cancels a job: waiting items never run, and a finished job cannot be cancelled', async () => {
    const items = Array.from({ length: 300 }, (_, n) => images.url(`/p/${n % 13}.jpg?cancel=${n}`));
    const job = (await (await post({ items })).json()) as JobStatus;
    const cancelled = await fetch(`${running.baseUrl}/v1/jobs/${job.id}`, {
      method: 'DELETE',
      headers: auth(KEY_A),
    });
    expect(cancelled.status).toBe(200);
    expect(((await cancelled.json()) as JobStatus).state).toBe('cancelled');
    const after = await getJob(running.baseUrl, job.id, auth(KEY_A));
    expect(after.state).toBe('cancelled');
    expect(after.counts.pending).toBeGreaterThan(0);
    const again = await fetch(`${running.baseUrl}/v1/jobs/${job.id}`, {
      method: 'DELETE',
      headers: auth(KEY_A),
    });
    expect(again.status).toBe(200);

    const small = (await (await post({ items: [images.url('/p/3.jpg?fin=1')] })).json()) as JobStatus;
    await waitForJob(running.baseUrl, small.id, undefined, 60_000, auth(KEY_A));
    const finished = await fetch(`${running.baseUrl}/v1/jobs/${small.id}`, {
      method: 'DELETE',
      headers: auth(KEY_A),
    });
    expect(finished.status).toBe(409);
    expect(((await finished.json()) as { code: string }).code).toBe('job_finished');
  });

  it('takes a JSONL file with options in the query', async () => {
    const body = [0, 1, 2]
      .map((n) => JSON.stringify({ id: `line-${n}`, url: images.url(`/p/${n}.jpg?jsonl=1`) }))
      .join('\n');
    const response = await fetch(`${running.baseUrl}/v1/jobs?top_k=3`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson', ...auth(KEY_A) },
      body,
    });
    expect(response.status).toBe(201);
    const job = (await response.json()) as JobStatus;
    expect(job).toMatchObject({ input: 'jsonl', top_k: 3, counts: { total: 3 } });
    await waitForJob(running.baseUrl, job.id, undefined, 60_000, auth(KEY_A));
    const lines = await readResults(running.baseUrl, job.id, 'input', auth(KEY_A));
    expect(lines.map((line) => line.id)).toEqual(['line-0', 'line-1', 'line-2']);
    for (const [n, line] of lines.entries()) {
      expect(line.prediction?.predictions).toHaveLength(3);
      expect(line.prediction?.predictions.map((p) => p.label)).toContain(photos[n].label);
    }
  });

  it('refuses bad requests with clear problems', async () => {
    const cases: Array<[unknown, number, string]> = [
      [{ items: [] }, 400, 'validation_failed'],
      [{ items: 'nope' }, 400, 'validation_failed'],
      [
        {
          items: [
            { id: 'a', url: 'x' },
            { id: 'a', url: 'y' },
          ],
        },
        400,
        'validation_failed',
      ],
      [{ items: ['http://127.0.0.1/x.jpg'], top_k: 0 }, 400, 'validation_failed'],
      [{ items: ['http://127.0.0.1/x.jpg'], model: 'no-such-model' }, 404, 'model_not_found'],
      [
        { items: ['http://127.0.0.1/x.jpg'], webhook_url: 'http://169.254.169.254/latest' },
        400,
        'url_forbidden_address',
      ],
      [
        { items: ['http://127.0.0.1/x.jpg'], webhook_url: 'http://metadata.google.internal/x' },
        400,
        'url_forbidden_address',
      ],
      [
        { items: ['http://127.0.0.1/x.jpg'], webhook_url: 'ftp://example.com/x' },
        400,
        'url_scheme_not_allowed',
      ],
      [{ items: ['http://127.0.0.1/x.jpg'], surprise: 1 }, 400, 'validation_failed'],
    ];
    for (const [body, status, code] of cases) {
      const response = await post(body);
      expect(response.status, JSON.stringify(body)).toBe(status);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(((await response.json()) as { code: string }).code, JSON.stringify(body)).toBe(code);
    }
    const text = await fetch(`${running.baseUrl}/v1/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', ...auth(KEY_A) },
      body: 'hello',
    });
    expect(text.status).toBe(415);
    const unknown = await fetch(`${running.baseUrl}/v1/jobs/not-a-job`, { headers: auth(KEY_A) });
    expect(unknown.status).toBe(404);
    const badOrder = await fetch(
      `${running.baseUrl}/v1/jobs/00000000-0000-4000-8000-000000000000/results?order=random`,
      {
        headers: auth(KEY_A),
      },
    );
    expect(badOrder.status).toBe(400);
    // Nothing of the refused jobs stays on disk.
    const jobFolders = join(jobsDir, 'jobs');
    expect(existsSync(jobFolders) ? readdirSync(jobFolders) : []).toEqual([]);
  });
});
