import { execFile, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE_MODELS, foodPhotos } from '../support/shared-data';
import { startTestApp, type RunningApp } from '../support/test-app';

const ROOT = resolve(__dirname, '..', '..');
const CLI = join(ROOT, 'scripts', 'classify.ts');

const outputLines = (file: string) =>
  existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter((line) => line.length > 0)
    : [];

describe('npm run classify (a folder of photos through the jobs API)', () => {
  let running: RunningApp;
  let work: string;
  const photos = foodPhotos();
  const copies = 6;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'jobs-cli-'));
    for (let copy = 0; copy < copies; copy++) {
      mkdirSync(join(work, 'photos', `set-${copy}`), { recursive: true });
      for (const photo of photos) copyFileSync(photo.path, join(work, 'photos', `set-${copy}`, photo.file));
    }
    running = await startTestApp(FIXTURE_MODELS.food101Tflite, {
      JOBS_DIR: join(work, 'jobs'),
      INFERENCE_WORKERS: '1',
      JOBS_CONCURRENCY: '1',
    });
  });

  afterAll(async () => {
    await running?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('is interrupted mid-run, then resumes: every photo once, each right', async () => {
    const out = join(work, 'results.jsonl');
    const args = [
      '--import',
      'tsx',
      CLI,
      join(work, 'photos'),
      '--out',
      out,
      '--url',
      running.baseUrl,
      '--chunk',
      '40',
    ];
    const first = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let firstErr = '';
    first.stderr.on('data', (chunk: Buffer) => (firstErr += chunk.toString()));
    const exited = new Promise((resolve) => first.once('exit', resolve));
    await expect
      .poll(() => outputLines(out).length, { timeout: 60_000, interval: 50 })
      .toBeGreaterThanOrEqual(5);
    first.kill('SIGKILL');
    await exited;
    const partial = outputLines(out).length;
    expect(partial, firstErr).toBeLessThan(photos.length * copies);
    expect(existsSync(`${out}.jobs`)).toBe(true);

    const { stderr } = await promisify(execFile)(process.execPath, args, { cwd: ROOT, timeout: 120_000 });
    expect(stderr).toMatch(/already in .*results\.jsonl, skipping them/);
    // Not a terminal: plain progress lines, no carriage returns.
    expect(stderr).toMatch(/^classify: \d+\/78 \(\d+%\), [\d.]+\/s, ETA \S+$/m);
    expect(stderr).not.toContain('\r');
    const lines = outputLines(out).map(
      (line) => JSON.parse(line) as { id: string; prediction?: { predictions: Array<{ label: string }> } },
    );
    expect(lines).toHaveLength(photos.length * copies);
    expect(new Set(lines.map((line) => line.id)).size).toBe(lines.length);
    for (const line of lines) {
      const label = line.id.split('/').pop()!.split('__')[0];
      expect(
        line.prediction?.predictions.map((prediction) => prediction.label),
        line.id,
      ).toContain(label);
    }
    expect(existsSync(`${out}.jobs`)).toBe(false);

    // Once more: nothing left to do, nothing written twice.
    await promisify(execFile)(process.execPath, args, { cwd: ROOT, timeout: 60_000 });
    expect(outputLines(out)).toHaveLength(photos.length * copies);
  }, 150_000);
});
