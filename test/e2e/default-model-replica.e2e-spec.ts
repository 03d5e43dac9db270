import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INFERENCE_OPTIONS, ModelRegistry, type InferenceModuleOptions } from '@app/inference';
import { digestFile } from '../../libs/inference/src/manifest/file-digest';
import { writeKerasH5 } from '../support/keras-h5-writer';
import { referenceForward } from '../support/keras-reference';
import {
  EFFICIENTNETB0_CONFIG_PATH,
  kerasReplica,
  readModelConfig,
  type Replica,
} from '../support/keras-replica';
import { startTestApp } from '../support/test-app';
import { testManifest } from '../support/test-manifest';

/*
 * The product's default model is a Keras 2.7 EfficientNetB0 `.h5` (mixed_float16, base called with
 * training=False inside an outer Functional model). Its weights cannot be had here, so this serves a
 * replica: the real model_config of such a model, seeded weights, written in Keras' exact h5 layout.
 */
const SIZE = 224;
const LABELS = Array.from({ length: 101 }, (_, i) => `class_${i}`);
const work = mkdtempSync(join(tmpdir(), 'default-replica-'));
let replica: Replica;
let manifestPath: string;

beforeAll(async () => {
  replica = kerasReplica(readModelConfig(EFFICIENTNETB0_CONFIG_PATH), { seed: 12, withOptimizer: true });
  const h5 = join(work, 'food-vision-replica.h5');
  await writeKerasH5(h5, replica.content);
  const digest = await digestFile(h5);
  manifestPath = join(work, 'manifest.json');
  writeFileSync(
    manifestPath,
    JSON.stringify(
      testManifest({
        name: 'food-vision-replica',
        format: 'keras-h5',
        entry: 'food-vision-replica.h5',
        files: [{ path: 'food-vision-replica.h5', size: digest.size, sha256: digest.sha256 }],
        labels: LABELS,
        input: { height: SIZE, width: SIZE, value_range: [0, 255] },
        source: { description: 'weight-random replica of the default model, built by this test' },
        license: { name: 'test fixture', redistributable: false },
      }),
    ),
  );
}, 120_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

function pixels(seed: number): Uint8Array {
  let state = seed >>> 0;
  return new Uint8Array(SIZE * SIZE * 3).map(() => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return Math.floor((state / 2 ** 32) * 256);
  });
}

describe('a Keras-2.7-faithful replica of the default model, served', () => {
  for (const engine of ['onnxruntime', 'tfjs'] as const) {
    it(`is ready within 60 s and answers what the independent reference computes (${engine})`, async () => {
      const started = Date.now();
      const app = await startTestApp(
        { manifest: manifestPath, dir: work },
        { INFERENCE_FLOAT_ENGINE: engine, INFERENCE_WORKERS: '1' },
      );
      try {
        const readyMs = Date.now() - started;
        console.info(`default-model replica ready on ${engine} in ${readyMs} ms`);
        expect(readyMs).toBeLessThan(60_000);
        const raw = pixels(3);
        // A lossless PNG at the model's size: the service's resize leaves these pixels as they are.
        const png = await sharp(raw, { raw: { width: SIZE, height: SIZE, channels: 3 } })
          .png()
          .toBuffer();
        const expected = referenceForward(
          replica.modelConfig,
          { shape: [SIZE, SIZE, 3], data: Float32Array.from(raw) },
          replica.weights,
        ).data;
        const response = await fetch(`${app.baseUrl}/v1/predictions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ image: png.toString('base64'), top_k: LABELS.length }),
        });
        expect(response.status).toBe(200);
        const { predictions } = (await response.json()) as {
          predictions: Array<{ label: string; confidence: number }>;
        };
        const worst = Math.max(
          ...predictions.map((p) => Math.abs(p.confidence - expected[LABELS.indexOf(p.label)])),
        );
        const top = expected.indexOf(Math.max(...expected));
        console.info(
          `default-model replica on ${engine} vs reference: max abs diff ${worst.toExponential(2)}`,
        );
        expect(worst).toBeLessThanOrEqual(1e-4);
        expect(predictions[0].label).toBe(LABELS[top]);
      } finally {
        await app.close();
      }
    }, 180_000);
  }

  it('fails at its load deadline, says what stalled, counts it, and loads on a later reload', async () => {
    const app = await startTestApp(
      { manifest: manifestPath, dir: work },
      { MODEL_LOAD_TIMEOUT_SECONDS: '1', INFERENCE_WORKERS: '1' },
      { waitForModel: false },
    );
    try {
      const started = Date.now();
      const state = await app.app.get(ModelRegistry).load();
      expect(Date.now() - started).toBeLessThan(15_000);
      expect(state.status).toBe('failed');
      const reason = state.status === 'failed' ? state.reason : '';
      expect(reason).toMatch(
        /^Model food-vision-replica@1 did not finish loading and warming up within 1 s \(MODEL_LOAD_TIMEOUT_SECONDS\): it stalled (while [a-z]|before reporting).*, so its workers were stopped\.$/,
      );
      const ready = await fetch(`${app.baseUrl}/health/ready`);
      expect(ready.status).toBe(503);
      expect(JSON.stringify(await ready.json())).toContain(
        'did not finish loading and warming up within 1 s',
      );
      const metrics = await (await fetch(`${app.baseUrl}/metrics`)).text();
      expect(metrics).toMatch(/model_load_failures_total\{name="food-vision-replica",cause="timeout"\} 1/);

      // An operator raises the deadline; a reload then loads the model (nothing was left stuck).
      app.app.get<InferenceModuleOptions>(INFERENCE_OPTIONS).loadTimeoutMs = 120_000;
      const reloaded = await fetch(`${app.baseUrl}/v1/models/food-vision-replica/reload`, { method: 'POST' });
      expect(reloaded.status).toBe(200);
      expect((await fetch(`${app.baseUrl}/health/ready`)).status).toBe(200);
    } finally {
      await app.close();
    }
  }, 180_000);
});
