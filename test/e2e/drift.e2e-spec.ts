/**
 * Drift on the real Food-101 model: a reference profile made by the real `npm run model:profile` on the 13 shared
 * photos, then streams through the service. The photos themselves keep the status "ok"; generated shifted streams
 * (noise, solid colours, one dish only, strong colour filters made with sharp) turn it "drifting" within a window,
 * and the photos bring it back. The scores are printed: docs/monitoring.md records them.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE_MODELS, FOOD_IMAGES_DIR, foodPhotos } from '../support/shared-data';
import { startTestApp, type RunningApp } from '../support/test-app';

const ROOT = resolve(__dirname, '..', '..');
const MODEL = FIXTURE_MODELS.food101Tflite;
const NAME = (JSON.parse(readFileSync(MODEL.manifest, 'utf8')) as { name: string }).name;
const WINDOW = 60;
const photos = foodPhotos().map((photo) => readFileSync(photo.path));

interface Monitoring {
  status: string;
  reason: string;
  window: { predictions: number };
  scores?: { confidence: number; class_mix: number };
}

/** Deterministic pseudo-random bytes (the test must not change from run to run). */
function noise(seed: number, length: number): Buffer {
  let state = seed;
  return Buffer.from(
    Array.from({ length }, () => {
      state = (state * 1103515245 + 12345) >>> 0;
      return state >>> 24;
    }),
  );
}

describe('drift against the reference profile', () => {
  let api: RunningApp;
  let dir: string;

  beforeAll(async () => {
    // A copy of the fixture's manifest in a folder of its own, so the reference can sit beside it.
    dir = mkdtempSync(join(tmpdir(), 'drift-model-'));
    copyFileSync(MODEL.manifest, join(dir, 'manifest.json'));
    await promisify(execFile)(
      process.execPath,
      [
        '--import',
        'tsx',
        join(ROOT, 'scripts', 'model-profile.ts'),
        FOOD_IMAGES_DIR,
        '--manifest',
        join(dir, 'manifest.json'),
        '--model-dir',
        MODEL.dir,
      ],
      { cwd: ROOT },
    );
    api = await startTestApp(
      { manifest: join(dir, 'manifest.json'), dir: MODEL.dir },
      { INFERENCE_WORKERS: '2', DRIFT_WINDOW_SIZE: String(WINDOW), DRIFT_MIN_PREDICTIONS: '30' },
    );
  }, 180_000);

  afterAll(async () => {
    await api?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const monitoring = async (): Promise<Monitoring> =>
    ((await (await fetch(`${api.baseUrl}/v1/models/${NAME}`)).json()) as { monitoring: Monitoring })
      .monitoring;

  /** Sends `images` (in order, cycling) until `count` are classified; returns the monitoring block after. */
  async function stream(images: Buffer[], count: number): Promise<Monitoring> {
    for (let index = 0; index < count; index++) {
      const response = await fetch(`${api.baseUrl}/v1/predictions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ image: images[index % images.length].toString('base64') }),
      });
      expect(response.status).toBe(200);
      await response.arrayBuffer();
    }
    return monitoring();
  }

  it('model:profile names the reference and its photos in the manifest beside it', () => {
    const written = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as {
      monitoring: { reference: { file: string; photos: string; count: number; digest: string } };
    };
    const profile = JSON.parse(readFileSync(join(dir, 'reference-profile.json'), 'utf8')) as {
      photos: { digest: string };
    };
    expect(written.monitoring.reference).toEqual({
      file: 'reference-profile.json',
      photos: relative(ROOT, FOOD_IMAGES_DIR),
      count: photos.length,
      digest: profile.photos.digest,
    });
  });

  it('warms up, stays ok on the photos it was profiled on, turns drifting on shifted streams, and comes back', async () => {
    expect((await monitoring()).status).toBe('warming_up');
    const scores: Record<string, Monitoring['scores']> = {};
    const own = await stream(photos, WINDOW);
    scores.photos = own.scores;
    expect(own.status, JSON.stringify(own)).toBe('ok');

    const shifted: Record<string, Buffer[]> = {
      noise: await Promise.all(
        [1, 2, 3, 4, 5].map((seed) =>
          sharp(noise(seed, 256 * 256 * 3), { raw: { width: 256, height: 256, channels: 3 } })
            .png()
            .toBuffer(),
        ),
      ),
      solid_colours: await Promise.all(
        ['#d33', '#3a3', '#33c', '#eee', '#222', '#c90'].map((colour) =>
          sharp({ create: { width: 320, height: 240, channels: 3, background: colour } })
            .png()
            .toBuffer(),
        ),
      ),
      one_dish: [photos[foodPhotos().findIndex((photo) => photo.label === 'steak')]],
      colour_filter: await Promise.all(
        photos.map((photo) =>
          sharp(photo).modulate({ hue: 180, saturation: 2.5 }).tint('#0040ff').jpeg().toBuffer(),
        ),
      ),
    };
    for (const [name, images] of Object.entries(shifted)) {
      // Within one window of shifted photos, the status turns.
      const after = await stream(images, WINDOW);
      scores[name] = after.scores;
      expect(after.status, `${name}: ${JSON.stringify(after)}`).toBe('drifting');
      // And a window of the reference photos brings it back.
      const back = await stream(photos, WINDOW);
      expect(back.status, `after ${name}: ${JSON.stringify(back)}`).toBe('ok');
    }
    console.info(`drift scores (confidence, class mix): ${JSON.stringify(scores)}`);

    const metrics = await (await fetch(`${api.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(
      new RegExp(`^food_vision_drift_status\\{model="${NAME}",version="1",status="ok"\\} 1$`, 'm'),
    );
    expect(metrics).toMatch(
      new RegExp(
        `^food_vision_drift_score\\{model="${NAME}",version="1",signal="class_mix"\\} [0-9.e-]+$`,
        'm',
      ),
    );
  }, 300_000);
});
