/**
 * The seeded, bounded fuzz run CI does (`npm run fuzz -- --runs N` runs longer): generated and mutated requests
 * against the running app, each answered below 500, within seconds, in the route's error shape; afterwards the
 * process still classifies a real photo.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FUZZ_PROPERTIES, runProperty } from '../support/protocol-fuzz';
import { FIXTURE_MODELS, foodPhotos } from '../support/shared-data';
import { startTestApp, type RunningApp } from '../support/test-app';

// CI: fixed and short. `npm run fuzz` sets more runs and another seed.
const SEED = Number(process.env.FUZZ_SEED ?? 20_261_201);
const RUNS = Number(process.env.FUZZ_RUNS ?? 100);
const TIMEOUT_MS = Math.max(120_000, RUNS * 2_000);
const photo = readFileSync(foodPhotos().find((candidate) => candidate.file === 'pizza__1.jpg')!.path);

describe('protocol fuzzing (fast-check, seeded)', () => {
  let running: RunningApp;

  beforeAll(async () => {
    running = await startTestApp(FIXTURE_MODELS.food101Tflite, { INFERENCE_WORKERS: '1' });
  });

  afterAll(async () => {
    await running?.close();
  });

  for (const name of Object.keys(FUZZ_PROPERTIES) as Array<keyof typeof FUZZ_PROPERTIES>) {
    it(
      `${name}: below 500, within seconds, the right error shape`,
      async () => {
        await runProperty(name, { baseUrl: running.baseUrl, photo, runs: RUNS, seed: SEED });
      },
      TIMEOUT_MS,
    );
  }

  it('still classifies the pizza afterwards', async () => {
    const response = await fetch(`${running.baseUrl}/v1/predictions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ image: photo.toString('base64') }),
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { predictions: Array<{ label: string }> };
    expect(body.predictions[0].label).toBe('pizza');
  });
});
