import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as TfCore from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { ModelRegistry } from '@app/inference';
import { selectTfjsBackend } from '../../libs/inference/src/runtimes/tfjs-backend';
import { loadKerasH5Model } from '../../libs/keras/src/h5/keras-h5-model';
import { OpenApiContract } from '../support/contract';
import { FIXTURE_MODELS, foodPhotos } from '../support/shared-data';
import { startTestApp, type RunningApp } from '../support/test-app';

interface V1Prediction {
  model: { name: string; version: string };
  predictions: Array<{ label: string; confidence: number }>;
}

const photos = foodPhotos();
const MODEL = FIXTURE_MODELS.food101KerasH5;
const H5_PATH = join(MODEL.dir, 'mobilenet_v2_0.35_224_fft.h5');

describe('the real Food-101 Keras .h5 model (MobileNetV2) served over HTTP', () => {
  let running: RunningApp;
  let tf: typeof TfCore;
  let reference: LayersModel;

  beforeAll(async () => {
    running = await startTestApp(MODEL);
    ({ tf } = await selectTfjsBackend());
    ({ model: reference } = await loadKerasH5Model(tf, H5_PATH));
  });

  afterAll(async () => {
    reference?.dispose();
    await running?.close();
  });

  async function predict(bytes: Buffer, topK: number): Promise<V1Prediction> {
    const response = await fetch(`${running.baseUrl}/v1/predictions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ image: bytes.toString('base64'), top_k: topK }),
    });
    expect(response.status).toBe(200);
    return (await response.json()) as V1Prediction;
  }

  it('describes itself as the document says: served on onnxruntime, an engine the spec lists', async () => {
    const response = await new OpenApiContract().fetch()(
      `${running.baseUrl}/v1/models/food101-mobilenet-v2-h5`,
    );
    expect(response.status).toBe(200);
    expect(((await response.json()) as { runtime: unknown }).runtime).toEqual({
      engine: 'onnxruntime',
      backend: 'cpu',
    });
  });

  it('reaches the accuracy floor on the real photos (≥ 12/13 top-1, 13/13 top-5)', async () => {
    let top1 = 0;
    let top5 = 0;
    for (const photo of photos) {
      const result = await predict(readFileSync(photo.path), 5);
      expect(result.model).toEqual({ name: 'food101-mobilenet-v2-h5', version: '1' });
      const labels = result.predictions.map((prediction) => prediction.label);
      if (labels[0] === photo.label) top1++;
      if (labels.includes(photo.label)) top5++;
    }
    console.info(`keras-h5 MobileNetV2 on ${photos.length} photos: top-1 ${top1}, top-5 ${top5}`);
    expect(top1).toBeGreaterThanOrEqual(12);
    expect(top5).toBe(photos.length);
  });

  it('answers the probabilities TF.js computes for the same input tensor (pixel/127.5 − 1), to 1e-4', async () => {
    const labels = readFileSync(join(MODEL.dir, 'labels.txt'), 'utf8').trim().split(/\r?\n/);
    let worst = 0;
    for (const photo of photos.slice(0, 4)) {
      // A lossless PNG already at the model's size: whatever the service's resampler, its pixels are these.
      const { data } = await sharp(readFileSync(photo.path))
        .resize(224, 224, { fit: 'fill' })
        .removeAlpha()
        .raw()
        .toBuffer({ resolveWithObject: true });
      const png = await sharp(data, { raw: { width: 224, height: 224, channels: 3 } })
        .png()
        .toBuffer();
      // The input tensor built here from the manifest's documented scaling, not by the service's code.
      const input = tf.tensor4d(
        Float32Array.from(data, (value) => value / 127.5 - 1),
        [1, 224, 224, 3],
      );
      const output = reference.predict(input) as TfCore.Tensor;
      const expected = await output.data();
      tf.dispose([input, output]);
      const result = await predict(png, labels.length);
      expect(result.predictions).toHaveLength(labels.length);
      for (const prediction of result.predictions) {
        worst = Math.max(worst, Math.abs(prediction.confidence - expected[labels.indexOf(prediction.label)]));
      }
    }
    console.info(`keras-h5 service vs TF.js: max abs diff ${worst.toExponential(2)}`);
    expect(worst).toBeLessThanOrEqual(1e-4);
  });
});

describe('a Keras .h5 manifest that does not fit its model', () => {
  it('is refused at load with a message that says what to fix', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keras-h5-manifest-'));
    const manifest = JSON.parse(readFileSync(MODEL.manifest, 'utf8')) as {
      input: { height: number; width: number };
    };
    manifest.input.height = 192;
    manifest.input.width = 192;
    const path = join(dir, 'manifest.json');
    writeFileSync(path, JSON.stringify(manifest));
    const app = await startTestApp({ manifest: path, dir: MODEL.dir }, {}, { waitForModel: false });
    try {
      const state = await app.app.get(ModelRegistry).load();
      expect(state.status).toBe('failed');
      expect(state.status === 'failed' && state.reason).toMatch(
        /takes input \[-1, 224, 224, 3\] but its manifest says 192×192×3: fix input in the manifest/,
      );
    } finally {
      await app.close();
    }
  });
});
