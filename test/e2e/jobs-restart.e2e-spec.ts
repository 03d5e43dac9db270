import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tarArchive } from '../support/archive-writer';
import { buildApp, freePort, runNode, type ServerProcess } from '../support/built-server';
import { builtEntrypoint } from '../support/deploy-files';
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
import { startRedis, SKIP_REDIS_TESTS } from '../support/redis-server';
import { FIXTURE_MODELS, type FoodPhoto } from '../support/shared-data';

const MODEL = FIXTURE_MODELS.food101Tflite;

/**
 * The fault tests run the built server as processes (what `npm start` runs), so that a replica can be killed
 * with SIGKILL mid-job: nothing of it runs after, no shutdown hook, no flush.
 */
describe('bulk jobs survive kill -9', () => {
  let outDir: string;
  let removeBuild: () => void;
  let images: ImageServer;
  let photos: FoodPhoto[];
  const processes: ServerProcess[] = [];
  const folders: string[] = [];

  const startServer = async (
    env: Record<string, string>,
  ): Promise<{ server: ServerProcess; baseUrl: string }> => {
    const port = await freePort();
    const server = runNode(join(outDir, builtEntrypoint().replace(/^dist\//, '')), {
      HOST: '127.0.0.1',
      PORT: String(port),
      MODEL_MANIFEST: MODEL.manifest,
      MODEL_DIR: MODEL.dir,
      IMAGE_FETCH_ALLOW_HOSTS: '127.0.0.1',
      INFERENCE_WORKERS: '1',
      JOBS_CONCURRENCY: '4',
      LOG_LEVEL: 'log',
      ...env,
    });
    processes.push(server);
    await server.waitForLine(/Ready on/, 90_000);
    return { server, baseUrl: `http://127.0.0.1:${port}` };
  };

  const kill = async (server: ServerProcess): Promise<void> => {
    server.child.kill('SIGKILL');
    const { signal } = await server.exited;
    expect(signal).toBe('SIGKILL');
  };

  beforeAll(async () => {
    ({ outDir, remove: removeBuild } = await buildApp());
    ({ server: images, photos } = await startPhotoServer());
  }, 240_000);

  afterAll(async () => {
    for (const server of processes) if (server.child.exitCode === null) server.child.kill('SIGKILL');
    await Promise.all(processes.map((server) => server.exited));
    await images?.close();
    removeBuild?.();
    for (const folder of folders) rmSync(folder, { recursive: true, force: true });
  });

  it('embedded: a job interrupted by SIGKILL continues after a restart, every item exactly once and right', async () => {
    const jobsDir = mkdtempSync(join(tmpdir(), 'jobs-kill-'));
    folders.push(jobsDir);
    const items = jobItems(images, photos, 260);
    const first = await startServer({ JOBS_DIR: jobsDir });
    const response = await fetch(`${first.baseUrl}/v1/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ items: items.map(({ id, url }) => ({ id, url })) }),
    });
    expect(response.status).toBe(201);
    const { id } = (await response.json()) as JobStatus;
    const before = await waitForJob(
      first.baseUrl,
      id,
      (job) => job.counts.succeeded + job.counts.failed >= 40,
    );
    expect(before.state).toBe('running');
    await kill(first.server);

    const second = await startServer({ JOBS_DIR: jobsDir });
    const resumed = await getJob(second.baseUrl, id);
    expect(resumed.counts.succeeded + resumed.counts.failed).toBeGreaterThanOrEqual(40);
    expect(resumed.counts.pending).toBeGreaterThan(0);
    const done = await waitForJob(second.baseUrl, id);
    expect(done.state).toBe('completed');
    expect(done.counts).toEqual({
      total: 260,
      succeeded: done.counts.succeeded,
      failed: done.counts.failed,
      pending: 0,
    });
    const lines = await readResults(second.baseUrl, id);
    const { top1, photos: photoItems } = checkResults(lines, items);
    expect(done.counts.succeeded).toBe(photoItems);
    expect(top1).toBeGreaterThanOrEqual(photoItems - Math.ceil(photoItems / 13));
    const metrics = await (await fetch(`${second.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/food_vision_jobs\{state="completed"\} 1/);
  }, 150_000);

  const itemsOf = async (baseUrl: string, outcome: string): Promise<number> => {
    const text = await (await fetch(`${baseUrl}/metrics`)).text();
    const match = new RegExp(`^food_vision_job_items_total\\{outcome="${outcome}"\\} (\\d+)`, 'm').exec(text);
    return Number(match?.[1] ?? 0);
  };

  it.skipIf(SKIP_REDIS_TESTS)(
    'Redis: two replicas share a job; one is SIGKILLed and Redis restarted mid-job; every item exactly once and right',
    async () => {
      const redis = await startRedis();
      try {
        const env = (name: string) => {
          const dir = mkdtempSync(join(tmpdir(), `jobs-${name}-`));
          folders.push(dir);
          return { JOBS_REDIS_URL: redis.url, JOBS_DIR: dir, JOBS_LEASE_MS: '3000' };
        };
        const [a, b] = await Promise.all([startServer(env('a')), startServer(env('b'))]);
        const items = jobItems(images, photos, 520);
        const response = await fetch(`${a.baseUrl}/v1/jobs`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ items: items.map(({ id, url }) => ({ id, url })) }),
        });
        expect(response.status).toBe(201);
        const { id } = (await response.json()) as JobStatus;
        // An archive sent to the other replica: its members travel through Redis to whichever replica runs them.
        const tar = tarArchive([
          { name: 'menu/a.jpg', data: readFileSync(photos[4].path) },
          { name: '../escape.jpg', data: readFileSync(photos[4].path) },
          { name: 'menu/b.jpg', data: readFileSync(photos[11].path) },
        ]);
        const sendTar = (baseUrl: string) =>
          fetch(`${baseUrl}/v1/jobs`, {
            method: 'POST',
            headers: { 'content-type': 'application/x-tar', 'idempotency-key': 'menu-tar' },
            body: tar,
          });
        const archive = await sendTar(b.baseUrl);
        expect(archive.status).toBe(201);
        const archiveId = ((await archive.json()) as JobStatus).id;
        // The same request again, to the other replica: the same job.
        const again = await sendTar(a.baseUrl);
        expect(again.status).toBe(200);
        expect(((await again.json()) as JobStatus).id).toBe(archiveId);
        // Any replica answers for the job; both take its items.
        await waitForJob(b.baseUrl, id, (job) => job.counts.succeeded + job.counts.failed >= 120);
        expect(await itemsOf(a.baseUrl, 'succeeded')).toBeGreaterThan(0);
        expect(await itemsOf(b.baseUrl, 'succeeded')).toBeGreaterThan(0);

        await kill(a.server);
        await redis.restart();
        const midway = await getJob(b.baseUrl, id);
        expect(midway.counts.pending).toBeGreaterThan(0);

        const done = await waitForJob(b.baseUrl, id, undefined, 120_000);
        expect(done.state).toBe('completed');
        expect(done.counts.pending).toBe(0);
        const lines = await readResults(b.baseUrl, id);
        const { top1, photos: photoItems } = checkResults(lines, items);
        expect(done.counts.succeeded).toBe(photoItems);
        expect(top1).toBeGreaterThanOrEqual(photoItems - Math.ceil(photoItems / 13));
        const byCompletion = await readResults(b.baseUrl, id, 'completion');
        expect(byCompletion).toHaveLength(520);

        expect((await waitForJob(b.baseUrl, archiveId)).state).toBe('completed');
        const archiveLines = new Map(
          (await readResults(b.baseUrl, archiveId)).map((line) => [line.id, line]),
        );
        expect(archiveLines.get('menu/a.jpg')?.prediction?.predictions[0].label).toBe(photos[4].label);
        expect(archiveLines.get('menu/b.jpg')?.prediction?.predictions[0].label).toBe(photos[11].label);
        expect(archiveLines.get('../escape.jpg')?.problem?.code).toBe('archive_member_refused');

        // A replica started afterwards reads the same job from Redis.
        const c = await startServer(env('c'));
        expect((await getJob(c.baseUrl, id)).state).toBe('completed');
      } finally {
        await redis.stop();
      }
    },
    180_000,
  );
});
