import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ModelRegistry } from '@app/inference';
import { FIXTURE_MODELS } from '../support/shared-data';
import { startTestApp, type RunningApp } from '../support/test-app';

describe('readiness reflects the model', () => {
  let running: RunningApp | undefined;
  const emptyDirs: string[] = [];

  afterEach(async () => {
    await running?.close();
    running = undefined;
    for (const dir of emptyDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('is 503 while the model loads and 200 once it is warm; liveness is 200 throughout', async () => {
    running = await startTestApp(FIXTURE_MODELS.food101Tflite, {}, { waitForModel: false });
    const first = await fetch(`${running.baseUrl}/health/ready`);
    const live = await fetch(`${running.baseUrl}/health/live`);
    const predictWhileLoading = await fetch(`${running.baseUrl}/v1/predictions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: 'http://127.0.0.1:9/x.jpg' }),
    });
    // The listener is up before the model: the first answers come while LiteRT is still starting.
    expect(live.status).toBe(200);
    expect(first.status).toBe(503);
    expect(first.headers.get('retry-after')).toBe('5');
    const problem = (await first.json()) as { code: string; detail: string };
    expect(problem.code).toBe('model_not_ready');
    expect(problem.detail).toMatch(/loading/);
    expect(predictWhileLoading.status).toBe(503);
    expect(((await predictWhileLoading.json()) as { code: string }).code).toBe('model_not_ready');

    await running.app.get(ModelRegistry).load();
    const ready = await fetch(`${running.baseUrl}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      status: 'ok',
      details: {
        model: { status: 'up', name: 'food101-mobilenet-v1-int8', engine: 'litert', backend: 'wasm-xnnpack' },
      },
    });
  });

  it('stays 503 with the reason when the model files are missing, while liveness and metadata answer', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'food-vision-empty-'));
    emptyDirs.push(dir);
    running = await startTestApp(
      { manifest: FIXTURE_MODELS.food101Tflite.manifest, dir },
      {},
      { waitForModel: false },
    );
    const state = await running.app.get(ModelRegistry).load();
    expect(state.status).toBe('failed');
    const ready = await fetch(`${running.baseUrl}/health/ready`);
    expect(ready.status).toBe(503);
    const problem = (await ready.json()) as { code: string; detail: string };
    expect(problem.code).toBe('model_not_ready');
    expect(problem.detail).toContain('is missing mobilenet_v1_0.5_224_fft_int8.tflite');
    expect(problem.detail).toContain('MODEL_DIR');
    expect((await fetch(`${running.baseUrl}/health/live`)).status).toBe(200);
    const models = (await (await fetch(`${running.baseUrl}/v1/models`)).json()) as {
      models: Array<Record<string, unknown>>;
    };
    expect(models.models).toEqual([
      expect.objectContaining({
        name: 'food101-mobilenet-v1-int8',
        status: 'failed',
        reason: expect.stringContaining('missing'),
      }),
    ]);
  });

  it('refuses at load a manifest whose input size does not match the model', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'food-vision-manifest-'));
    emptyDirs.push(dir);
    const manifest = JSON.parse(readFileSync(FIXTURE_MODELS.food101Tflite.manifest, 'utf8')) as {
      input: { height: number };
    };
    manifest.input.height = 192;
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
    running = await startTestApp(
      { manifest: join(dir, 'manifest.json'), dir: FIXTURE_MODELS.food101Tflite.dir },
      {},
      { waitForModel: false },
    );
    const state = await running.app.get(ModelRegistry).load();
    expect(state).toMatchObject({
      status: 'failed',
      reason: expect.stringMatching(/takes input \[1, 224, 224, 3\] but its manifest says 192×224×3/),
    });
    expect((await fetch(`${running.baseUrl}/health/ready`)).status).toBe(503);
  });
});
