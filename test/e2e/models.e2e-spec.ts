import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE_MODELS, foodPhotos } from '../support/shared-data';
import { startTestApp, type RunningApp } from '../support/test-app';

describe('model metadata', () => {
  let running: RunningApp;

  beforeAll(async () => {
    running = await startTestApp(FIXTURE_MODELS.food101Tflite);
  });

  afterAll(async () => {
    await running?.close();
  });

  it('lists the served model with its status', async () => {
    const response = await fetch(`${running.baseUrl}/v1/models`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      models: [
        {
          name: 'food101-mobilenet-v1-int8',
          version: '1',
          versions: ['1'],
          format: 'tflite',
          status: 'ready',
          default: true,
        },
      ],
    });
  });

  it('describes the model: runtime, input, labels in output order, checksum and licence', async () => {
    const response = await fetch(`${running.baseUrl}/v1/models/food101-mobilenet-v1-int8`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown> & {
      labels: Array<{ index: number; label: string; display_name: string }>;
    };
    expect(body).toMatchObject({
      name: 'food101-mobilenet-v1-int8',
      format: 'tflite',
      status: 'ready',
      runtime: { engine: 'litert', backend: 'wasm-xnnpack' },
      input: {
        height: 224,
        width: 224,
        channels: 3,
        dtype: 'uint8',
        value_range: [0, 255],
        resize: { method: 'bilinear', fit: 'fill', fidelity: 'fast' },
      },
      output_kind: 'probabilities',
      label_count: 101,
      sha256: '6d16197710fa62c8f7a288a742db9fc4296306468982a2d6eea1aa4c286073cd',
      license: { name: 'ST SLA0044', redistributable: false },
    });
    const labels = readFileSync(`${FIXTURE_MODELS.food101Tflite.dir}/labels.txt`, 'utf8').trim().split('\n');
    expect(body.labels.map((label) => label.label)).toEqual(labels);
    expect(body.labels[16]).toEqual({ index: 16, label: 'cheesecake', display_name: 'cheesecake' });
    expect(body.labels[0].display_name).toBe('apple pie');
  });
});

describe.each<{ engine: string; backend: string; env: Record<string, string> }>([
  { engine: 'onnxruntime', backend: 'cpu', env: {} },
  // tfjs-node's native binary cannot be installed here, so TF.js must have fallen back to WASM.
  { engine: 'tfjs', backend: 'wasm', env: { INFERENCE_FLOAT_ENGINE: 'tfjs' } },
])('a TF.js layers model (real MobileNetV2 weights) on $engine', ({ engine, backend, env }) => {
  let running: RunningApp;

  beforeAll(async () => {
    running = await startTestApp(FIXTURE_MODELS.mobilenetV2Tfjs, env);
  });

  afterAll(async () => {
    await running?.close();
  });

  it('runs on the engine asked for and reports it with its backend', async () => {
    const body = (await (await fetch(`${running.baseUrl}/v1/models/nsfwjs-mobilenet-v2`)).json()) as {
      runtime: { engine: string; backend: string };
    };
    expect(body.runtime).toMatchObject({ engine, backend });
  });

  it('answers Neutral for every food photo, as its manifest documents', async () => {
    for (const photo of foodPhotos()) {
      const response = await fetch(`${running.baseUrl}/v1/predictions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ image: readFileSync(photo.path).toString('base64'), top_k: 5 }),
      });
      expect(response.status).toBe(200);
      const body = (await response.json()) as { predictions: Array<{ label: string; confidence: number }> };
      expect(body.predictions[0].label).toBe('Neutral');
      const sum = body.predictions.reduce((total, prediction) => total + prediction.confidence, 0);
      expect(Math.abs(sum - 1)).toBeLessThan(1e-3);
    }
  });
});
