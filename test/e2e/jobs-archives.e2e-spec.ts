import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tarArchive, zipArchive } from '../support/archive-writer';
import { waitForJob, type JobStatus, type ResultLine } from '../support/jobs';
import { FIXTURE_MODELS, foodPhotos } from '../support/shared-data';
import { startTestApp, type RunningApp } from '../support/test-app';

/** Every file under `dir`, as paths relative to it. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => !entry.isDirectory())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)));
}

describe('bulk jobs from archives, hostile ones included', () => {
  let running: RunningApp;
  /** The sandbox: JOBS_DIR is `sandbox/data/jobs`, so a file written outside it would land in `sandbox/`. */
  let sandbox: string;
  let jobsDir: string;
  const photos = foodPhotos();
  const photo = (index: number) => readFileSync(photos[index].path);

  const upload = (body: Buffer, contentType: string, query = '') =>
    fetch(`${running.baseUrl}/v1/jobs${query}`, {
      method: 'POST',
      headers: { 'content-type': contentType },
      body,
    });

  const results = async (id: string): Promise<ResultLine[]> => {
    const text = await (await fetch(`${running.baseUrl}/v1/jobs/${id}/results`)).text();
    return text
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as ResultLine);
  };

  const expectProblem = async (response: Response, status: number, code: string) => {
    const body = (await response.json()) as { code: string; detail: string };
    expect(response.status, body.detail).toBe(status);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(body.code).toBe(code);
    return body;
  };

  beforeAll(async () => {
    sandbox = mkdtempSync(join(tmpdir(), 'jobs-archives-'));
    jobsDir = join(sandbox, 'data', 'jobs');
    mkdirSync(jobsDir, { recursive: true });
    running = await startTestApp(FIXTURE_MODELS.food101Tflite, {
      JOBS_DIR: jobsDir,
      INFERENCE_WORKERS: '1',
      MAX_IMAGE_BYTES: String(200 * 1024),
      JOBS_MAX_ARCHIVE_BYTES: String(24 * 1024 * 1024),
    });
  });

  afterAll(async () => {
    await running?.close();
    // Whatever the archives tried, nothing was written in the sandbox outside JOBS_DIR.
    if (sandbox) {
      const outside = filesUnder(sandbox).filter((path) => !path.startsWith(join('data', 'jobs')));
      rmSync(sandbox, { recursive: true, force: true });
      expect(outside).toEqual([]);
    }
  });

  it('classifies the photos of a zip, a tar and a tar.gz, each member named by its path', async () => {
    const members = [0, 4, 8].map((index) => ({ name: `menu/${photos[index].file}`, data: photo(index) }));
    const archives: Array<[Buffer, string]> = [
      [zipArchive(members), 'application/zip'],
      [tarArchive(members), 'application/x-tar'],
      [gzipSync(tarArchive(members)), 'application/gzip'],
    ];
    for (const [archive, contentType] of archives) {
      const response = await upload(archive, contentType, '?top_k=5');
      expect(response.status, await response.clone().text()).toBe(201);
      const job = (await response.json()) as JobStatus;
      expect(job).toMatchObject({ input: 'archive', counts: { total: 3 } });
      expect((await waitForJob(running.baseUrl, job.id)).state).toBe('completed');
      const lines = await results(job.id);
      expect(lines.map((line) => line.id)).toEqual(members.map((member) => member.name));
      lines.forEach((line, n) =>
        expect(line.prediction?.predictions[0].label).toBe(photos[[0, 4, 8][n]].label),
      );
      // The extracted members are gone once the job has ended.
      await expect.poll(() => existsSync(join(jobsDir, 'jobs', job.id))).toBe(false);
    }
  });

  it('takes an archive or a JSONL list as the file of a form, with the options as its fields', async () => {
    const form = new FormData();
    form.append('top_k', '2');
    const zip = zipArchive([
      { name: 'a.jpg', data: photo(3) },
      { name: 'b.jpg', data: photo(11) },
    ]);
    form.append('archive', new Blob([new Uint8Array(zip)], { type: 'application/zip' }), 'photos.zip');
    const response = await fetch(`${running.baseUrl}/v1/jobs`, { method: 'POST', body: form });
    expect(response.status, await response.clone().text()).toBe(201);
    const job = (await response.json()) as JobStatus;
    expect(job).toMatchObject({ input: 'archive', top_k: 2, counts: { total: 2 } });
    await waitForJob(running.baseUrl, job.id);
    const lines = await results(job.id);
    expect(lines.map((line) => line.prediction?.predictions.length)).toEqual([2, 2]);
    expect(lines[1].prediction?.predictions[0].label).toBe('steak');

    const list = new FormData();
    list.append('archive', new Blob(['{"id":"x","url":"http://127.0.0.1:9/x.jpg"}\n']), 'list.jsonl');
    const jsonl = (await (
      await fetch(`${running.baseUrl}/v1/jobs`, { method: 'POST', body: list })
    ).json()) as JobStatus;
    expect(jsonl).toMatchObject({ input: 'jsonl', counts: { total: 1 } });

    const empty = new FormData();
    empty.append('top_k', '2');
    await expectProblem(
      await fetch(`${running.baseUrl}/v1/jobs`, { method: 'POST', body: empty }),
      400,
      'validation_failed',
    );
    const wrong = new FormData();
    wrong.append('photo', new Blob([new Uint8Array(zip)]), 'photos.zip');
    await expectProblem(
      await fetch(`${running.baseUrl}/v1/jobs`, { method: 'POST', body: wrong }),
      400,
      'validation_failed',
    );
    const big = new FormData();
    big.append('archive', new Blob([new Uint8Array(25 * 1024 * 1024)]), 'big.zip');
    await expectProblem(
      await fetch(`${running.baseUrl}/v1/jobs`, { method: 'POST', body: big }),
      413,
      'payload_too_large',
    );
  });

  it('refuses a zip bomb whole (413), before inflating it', async () => {
    const bomb = zipArchive([{ name: 'bomb.jpg', data: Buffer.alloc(48 * 1024 * 1024, 0) }]);
    expect(bomb.length).toBeLessThan(200 * 1024);
    await expectProblem(await upload(bomb, 'application/zip'), 413, 'archive_too_large');
  });

  it('refuses a gzip bomb (a tar.gz that expands a thousandfold) whole (413)', async () => {
    const bomb = gzipSync(tarArchive([{ name: 'zeros.jpg', data: Buffer.alloc(48 * 1024 * 1024, 0) }]));
    await expectProblem(await upload(bomb, 'application/gzip'), 413, 'archive_too_large');
  });

  it('refuses `..` and absolute paths, links and devices member by member, and classifies the rest', async () => {
    const tar = tarArchive([
      { name: '../../escape.jpg', data: photo(1) },
      { name: '/tmp/absolute.jpg', data: photo(1) },
      { name: 'ok/../../../climb.jpg', data: photo(1) },
      { name: 'link.jpg', type: '2', linkName: '/etc/passwd' },
      { name: 'hard.jpg', type: '1', linkName: 'ok/pizza.jpg' },
      { name: 'device', type: '3' },
      { name: 'ok/', type: '5' },
      { name: 'ok/pizza.jpg', data: photo(8) },
      { name: `${'deep/'.repeat(30)}steak.jpg`, data: photo(11) },
    ]);
    const response = await upload(tar, 'application/x-tar');
    expect(response.status).toBe(201);
    const job = (await response.json()) as JobStatus;
    expect(job.counts.total).toBe(8);
    expect((await waitForJob(running.baseUrl, job.id)).state).toBe('completed');
    const lines = await results(job.id);
    const byId = new Map(lines.map((line) => [line.id, line]));
    for (const name of [
      '../../escape.jpg',
      '/tmp/absolute.jpg',
      'ok/../../../climb.jpg',
      'link.jpg',
      'hard.jpg',
      'device',
    ]) {
      expect(byId.get(name)?.problem, name).toMatchObject({ code: 'archive_member_refused', status: 422 });
      expect(byId.get(name)?.problem?.detail).toContain(name);
    }
    expect(byId.get('ok/pizza.jpg')?.prediction?.predictions[0].label).toBe('pizza');
    expect(byId.get(`${'deep/'.repeat(30)}steak.jpg`)?.prediction?.predictions[0].label).toBe('steak');
    expect(existsSync(join(sandbox, 'escape.jpg'))).toBe(false);
    expect(existsSync('/tmp/absolute.jpg')).toBe(false);

    const zip = zipArchive([
      { name: '../zip-escape.jpg', data: photo(1) },
      { name: 'C:\\Windows\\win.jpg', data: photo(1) },
      { name: 'zip-link.jpg', data: Buffer.from('/etc/passwd'), unixMode: 0o120777 },
      { name: 'good.jpg', data: photo(3) },
    ]);
    const zipJob = (await (await upload(zip, 'application/zip')).json()) as JobStatus;
    expect((await waitForJob(running.baseUrl, zipJob.id)).state).toBe('completed');
    const zipLines = new Map((await results(zipJob.id)).map((line) => [line.id, line]));
    // yauzl reads a backslash as the separator it stands for.
    for (const name of ['../zip-escape.jpg', 'C:/Windows/win.jpg', 'zip-link.jpg']) {
      expect(zipLines.get(name)?.problem?.code, name).toBe('archive_member_refused');
    }
    expect(zipLines.get('good.jpg')?.prediction?.predictions[0].label).toBe(photos[3].label);
  });

  it('refuses a member larger than an upload may be (`too_large`, as /v1 would), without extracting it', async () => {
    const big = photos.findIndex((candidate) => statSync(candidate.path).size > 200 * 1024);
    const tar = tarArchive([
      { name: 'big.jpg', data: photo(big) },
      { name: 'small.jpg', data: photo(3) },
      { name: 'empty.jpg', data: Buffer.alloc(0) },
      { name: 'notes.txt', data: Buffer.from('not a photo') },
    ]);
    const job = (await (await upload(tar, 'application/x-tar')).json()) as JobStatus;
    expect((await waitForJob(running.baseUrl, job.id)).state).toBe('completed');
    const byId = new Map((await results(job.id)).map((line) => [line.id, line]));
    expect(byId.get('big.jpg')?.problem).toMatchObject({ code: 'too_large', status: 413 });
    expect(byId.get('small.jpg')?.prediction).toBeDefined();
    expect(byId.get('empty.jpg')?.problem?.code).toBe('missing_image');
    expect(byId.get('notes.txt')?.problem?.code).toBe('unsupported_image');
  });

  it('refuses an archive of 10,000 tiny members whole (413), and writes none of them', async () => {
    const tiny = Array.from({ length: 10_000 }, (_, n) => ({
      name: `tiny/${n}.jpg`,
      data: Buffer.from([n & 0xff]),
    }));
    const before = filesUnder(jobsDir).length;
    await expectProblem(await upload(tarArchive(tiny), 'application/x-tar'), 413, 'archive_too_large');
    await expectProblem(
      await upload(zipArchive(tiny.map((member) => ({ ...member, deflate: false }))), 'application/zip'),
      413,
      'archive_too_large',
    );
    expect(filesUnder(jobsDir).length).toBe(before);
  });

  it('refuses what is not an archive, a damaged one, and one over JOBS_MAX_ARCHIVE_BYTES', async () => {
    await expectProblem(
      await upload(Buffer.from('definitely not an archive'), 'application/zip'),
      400,
      'archive_invalid',
    );
    const tar = tarArchive([{ name: 'a.jpg', data: photo(3) }]);
    const gz = gzipSync(tar);
    await expectProblem(
      await upload(gz.subarray(0, gz.length - 40), 'application/gzip'),
      400,
      'archive_invalid',
    );
    await expectProblem(await upload(tar.subarray(0, 1000), 'application/x-tar'), 400, 'archive_invalid');
    const zip = zipArchive([{ name: 'a.jpg', data: photo(3) }]);
    await expectProblem(
      await upload(zip.subarray(0, zip.length - 30), 'application/zip'),
      400,
      'archive_invalid',
    );
    await expectProblem(
      await upload(Buffer.alloc(25 * 1024 * 1024, 1), 'application/zip'),
      413,
      'payload_too_large',
    );
  });
});
