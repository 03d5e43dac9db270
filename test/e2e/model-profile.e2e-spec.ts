/**
 * `npm run model:profile` as a user runs it (the real script, in its own process) on the 13 shared photos and the
 * real Food-101 model, checked against the service's own answers for the same photos over HTTP: the same accuracy,
 * class mix, per-class recall and confidence and margin distributions.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROFILE_EDGES, type ReferenceProfile } from '@app/inference';
import { FIXTURE_MODELS, FOOD_IMAGES_DIR, foodPhotos } from '../support/shared-data';
import { startTestApp, type RunningApp } from '../support/test-app';

const run = promisify(execFile);
const ROOT = resolve(__dirname, '..', '..');
const MODEL = FIXTURE_MODELS.food101Tflite;
const labels = readFileSync(join(MODEL.dir, 'labels.txt'), 'utf8').trim().split('\n');
const work = mkdtempSync(join(tmpdir(), 'model-profile-'));

async function profile(folder: string, out: string) {
  try {
    const { stdout } = await run(
      process.execPath,
      [
        '--import',
        'tsx',
        join(ROOT, 'scripts', 'model-profile.ts'),
        folder,
        '--manifest',
        MODEL.manifest,
        '--model-dir',
        MODEL.dir,
        '--out',
        out,
      ],
      { cwd: ROOT },
    );
    return { ok: true as const, stdout };
  } catch (error) {
    const failed = error as { code?: number; stderr?: string };
    return { ok: false as const, code: failed.code, stderr: failed.stderr ?? '' };
  }
}

describe('npm run model:profile', () => {
  let api: RunningApp;

  beforeAll(async () => {
    api = await startTestApp(MODEL, { INFERENCE_WORKERS: '1' });
  }, 120_000);

  afterAll(async () => {
    await api?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('writes the reference the service’s own answers give on the same photos', async () => {
    const out = join(work, 'reference-profile.json');
    const result = await profile(FOOD_IMAGES_DIR, out);
    expect(result.ok, result.ok ? '' : result.stderr).toBe(true);
    const written = JSON.parse(readFileSync(out, 'utf8')) as ReferenceProfile;

    // The service, over HTTP, with every class in the answer.
    const answers = [];
    for (const photo of foodPhotos()) {
      const form = new FormData();
      form.append(
        'image',
        new Blob([new Uint8Array(readFileSync(photo.path))], { type: 'image/jpeg' }),
        photo.file,
      );
      form.append('top_k', String(labels.length));
      const response = await fetch(`${api.baseUrl}/v1/predictions`, { method: 'POST', body: form });
      const body = (await response.json()) as { predictions: Array<{ label: string; confidence: number }> };
      answers.push({ label: photo.label, predictions: body.predictions });
    }
    const correct = answers.filter((answer) => answer.predictions[0].label === answer.label).length;
    const mix = new Map<string, number>();
    for (const answer of answers)
      mix.set(answer.predictions[0].label, (mix.get(answer.predictions[0].label) ?? 0) + 1);
    const confidences = answers.map((answer) => answer.predictions[0].confidence);
    const margins = answers.map(
      (answer) => answer.predictions[0].confidence - answer.predictions[1].confidence,
    );
    const counts = (values: number[]) =>
      PROFILE_EDGES.map(
        (edge, index) =>
          values.filter((value) => value <= edge && (index === 0 || value > PROFILE_EDGES[index - 1])).length,
      );

    expect(written).toMatchObject({
      kind: 'food-vision-reference-profile',
      model: { name: 'food101-mobilenet-v1-int8', version: '1' },
      photos: { count: 13, labels_from: 'labels.csv' },
    });
    expect(written.accuracy).toBeCloseTo(correct / answers.length, 6);
    expect(written.accuracy).toBeGreaterThanOrEqual(12 / 13);
    expect(Object.keys(written.class_mix).sort()).toEqual([...mix.keys()].sort());
    for (const [label, count] of mix) expect(written.class_mix[label]).toBeCloseTo(count / answers.length, 6);
    expect(written.confidence.counts).toEqual(counts(confidences));
    expect(written.margin.counts).toEqual(counts(margins));
    expect(written.confidence.mean).toBeCloseTo(confidences.reduce((sum, value) => sum + value, 0) / 13, 5);
    for (const [label, entry] of Object.entries(written.per_class)) {
      const mine = answers.filter((answer) => answer.label === label);
      expect(entry.photos).toBe(mine.length);
      expect(entry.correct).toBe(mine.filter((answer) => answer.predictions[0].label === label).length);
    }
    expect(result.ok && result.stdout).toMatch(/on 13 photos: accuracy 9\d\.\d %/);
  }, 120_000);

  it('says which photo has no label, and writes nothing', async () => {
    const folder = join(work, 'unlabelled');
    mkdirSync(folder);
    copyFileSync(join(FOOD_IMAGES_DIR, 'pizza__1.jpg'), join(folder, 'pizza__1.jpg'));
    copyFileSync(join(FOOD_IMAGES_DIR, 'steak__1.jpg'), join(folder, 'my-dinner.jpg'));
    const out = join(work, 'never.json');
    const result = await profile(folder, out);
    expect(result.ok).toBe(false);
    expect(existsSync(out)).toBe(false);
    expect(!result.ok && result.stderr).toMatch(
      /my-dinner\.jpg does not say its label: name it <label>__<n>\.jpg/,
    );
  }, 60_000);
});
