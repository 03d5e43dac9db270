/**
 * Abstention on the real Food-101 model. The model's min_confidence comes from its manifest's `monitoring` block
 * (set here to the median top-1 probability of the inputs, so some answers stand and some abstain); which ones must
 * abstain is computed in the test through the library (`classifyLabelledPhotos`, the model run apart from the
 * service). Each answer of /v1, /v2 and gRPC must say so, with the request's own min_confidence overriding the
 * model's; the seed route abstains only under SEED_ABSTAIN; the counter on /metrics counts every abstention.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyLabelledPhotos, resolveModel, topTwo } from '@app/inference';
import { GrpcFrontEnd } from '../../apps/api/src/grpc/grpc-front-end';
import { grpcClient } from '../support/grpc-client';
import { photoRoutes, startImageServer, type ImageServer } from '../support/image-server';
import { FIXTURE_MODELS, foodPhotos } from '../support/shared-data';
import { startTestApp, type RunningApp } from '../support/test-app';

const MODEL = FIXTURE_MODELS.food101Tflite;
const manifest = JSON.parse(readFileSync(MODEL.manifest, 'utf8')) as Record<string, unknown> & {
  name: string;
  version: string;
};
const labels = readFileSync(`${MODEL.dir}/labels.txt`, 'utf8').trim().split('\n');

interface Input {
  name: string;
  bytes: Buffer;
  /** Top-1 class and probability, from the library. */
  label: string;
  confidence: number;
}

/** Deterministic noise and a flat colour: inputs a food model should not be sure about. */
async function unfoodImages(): Promise<Array<{ name: string; bytes: Buffer }>> {
  let state = 7;
  const noise = Buffer.from(
    Array.from({ length: 224 * 224 * 3 }, () => {
      state = (state * 1103515245 + 12345) >>> 0;
      return state >>> 24;
    }),
  );
  const raw = { raw: { width: 224, height: 224, channels: 3 as const } };
  return [
    { name: 'noise.png', bytes: await sharp(noise, raw).png().toBuffer() },
    {
      name: 'grey.png',
      bytes: await sharp({ create: { width: 300, height: 200, channels: 3, background: '#777777' } })
        .png()
        .toBuffer(),
    },
  ];
}

describe('abstention under min_confidence, on every protocol', () => {
  let api: RunningApp;
  let images: ImageServer;
  let grpcPort: number;
  let dir: string;
  let inputs: Input[];
  let threshold: number;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'abstention-'));
    const files = [
      ...foodPhotos().map((photo) => ({ name: photo.file, bytes: readFileSync(photo.path) })),
      ...(await unfoodImages()),
    ];
    for (const file of files) writeFileSync(join(dir, file.name), file.bytes);
    const resolved = await resolveModel({ manifestPath: MODEL.manifest, modelDir: MODEL.dir });
    const rows = await classifyLabelledPhotos(
      resolved,
      files.map((file) => ({ path: join(dir, file.name), label: 'any' })),
    );
    inputs = files.map((file, index) => {
      const { index: top, first } = topTwo(rows[index].probabilities);
      return { ...file, label: labels[top], confidence: first };
    });
    const sorted = inputs.map((input) => input.confidence).sort((a, b) => a - b);
    // Halfway between two neighbours at the median: no answer sits on the edge.
    const middle = Math.floor(sorted.length / 2);
    threshold = Number(((sorted[middle - 1] + sorted[middle]) / 2).toFixed(6));
    writeFileSync(
      join(dir, 'manifest.json'),
      JSON.stringify({
        ...manifest,
        monitoring: { min_confidence: threshold, drift_thresholds: { confidence: 0.33, class_mix: 0.44 } },
      }),
    );
    images = await startImageServer(photoRoutes(files.map((file) => ({ path: join(dir, file.name) }))));
    api = await startTestApp(
      { manifest: join(dir, 'manifest.json'), dir: MODEL.dir },
      { INFERENCE_WORKERS: '2', SEED_ABSTAIN: 'true' },
    );
    grpcPort = await api.app.get(GrpcFrontEnd).start(0, '127.0.0.1');
  }, 180_000);

  afterAll(async () => {
    await api?.close();
    await images?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const abstains = (input: Input, minConfidence = threshold) => input.confidence < minConfidence;

  it('has inputs on both sides of the threshold', () => {
    expect(inputs.filter((input) => abstains(input)).length).toBeGreaterThan(2);
    expect(inputs.filter((input) => !abstains(input)).length).toBeGreaterThan(2);
  });

  it('/v1: abstains where the top-1 probability is under the model’s min_confidence, with the candidates', async () => {
    for (const input of inputs) {
      const response = await fetch(`${api.baseUrl}/v1/predictions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ image: input.bytes.toString('base64'), top_k: 3 }),
      });
      const body = (await response.json()) as {
        predictions: Array<{ label: string; confidence: number }>;
        abstained: boolean;
        abstention?: { reason: string; min_confidence: number; candidates: unknown[] };
      };
      expect(response.status).toBe(200);
      expect(body.predictions[0].label).toBe(input.label);
      expect(body.predictions[0].confidence).toBeCloseTo(input.confidence, 5);
      expect(body.abstained, input.name).toBe(abstains(input));
      if (abstains(input)) {
        expect(body.abstention).toMatchObject({ reason: 'low_confidence', min_confidence: threshold });
        expect(body.abstention!.candidates).toEqual(body.predictions);
      } else {
        expect(body).not.toHaveProperty('abstention');
      }
    }
  });

  it('/v1: the request’s min_confidence overrides the model’s, also in a batch', async () => {
    const low = inputs.find((input) => abstains(input))!;
    const answer = async (minConfidence: number) =>
      (await (
        await fetch(`${api.baseUrl}/v1/predictions/batch`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            items: [{ image: low.bytes.toString('base64') }],
            min_confidence: minConfidence,
          }),
        })
      ).json()) as { results: Array<{ prediction: { abstained: boolean } }> };
    expect((await answer(0)).results[0].prediction.abstained).toBe(false);
    expect((await answer(1)).results[0].prediction.abstained).toBe(true);
  });

  it('/v2: an `abstained` BOOL output per image, and the min_confidence in force', async () => {
    const infer = async (parameters?: object) => {
      const response = await fetch(`${api.baseUrl}/v2/models/${manifest.name}/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          ...(parameters ? { parameters } : {}),
          inputs: [
            {
              name: 'image',
              datatype: 'BYTES',
              shape: [inputs.length],
              data: inputs.map((input) => input.bytes.toString('base64')),
            },
          ],
        }),
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('x-model-version')).toBe(manifest.version);
      return (await response.json()) as {
        parameters?: { min_confidence: number };
        outputs: Array<{ name: string; datatype: string; shape: number[]; data: unknown[] }>;
      };
    };
    const byModel = await infer();
    expect(byModel.parameters).toEqual({ min_confidence: threshold });
    expect(byModel.outputs.map((output) => output.name)).toEqual(['probabilities', 'abstained']);
    expect(byModel.outputs[1]).toEqual({
      name: 'abstained',
      datatype: 'BOOL',
      shape: [inputs.length],
      data: inputs.map((input) => abstains(input)),
    });
    const stricter = 0.9;
    const byRequest = await infer({ min_confidence: stricter });
    expect(byRequest.outputs[1].data).toEqual(inputs.map((input) => abstains(input, stricter)));
    const refused = await fetch(`${api.baseUrl}/v2/models/${manifest.name}/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        parameters: { min_confidence: 'high' },
        inputs: [
          { name: 'image', datatype: 'BYTES', shape: [1], data: [inputs[0].bytes.toString('base64')] },
        ],
      }),
    });
    expect(refused.status).toBe(400);
  });

  it('gRPC: bool_contents for `abstained`, the request’s double_param min_confidence first', async () => {
    const client = grpcClient(`127.0.0.1:${grpcPort}`);
    try {
      const call = (parameters: object) =>
        client.call('ModelInfer', {
          model_name: manifest.name,
          parameters,
          inputs: [
            {
              name: 'image',
              datatype: 'BYTES',
              shape: [inputs.length],
              contents: { bytes_contents: inputs.map((input) => input.bytes) },
            },
          ],
        });
      const byModel = await call({});
      expect(byModel.error).toBeUndefined();
      const abstained = byModel.response!.outputs.find(
        (output) => output.name === 'abstained',
      ) as unknown as {
        datatype: string;
        contents: { bool_contents: boolean[] };
      };
      expect(abstained.datatype).toBe('BOOL');
      expect(abstained.contents.bool_contents).toEqual(inputs.map((input) => abstains(input)));
      const byRequest = await call({ min_confidence: { double_param: 0.05 } });
      const overridden = byRequest.response!.outputs.find(
        (output) => output.name === 'abstained',
      ) as unknown as {
        contents: { bool_contents: boolean[] };
      };
      expect(overridden.contents.bool_contents).toEqual(inputs.map((input) => abstains(input, 0.05)));
    } finally {
      client.close();
    }
  });

  it('the seed route, under SEED_ABSTAIN, answers "unknown" in its own shape', async () => {
    for (const [index, input] of inputs.entries()) {
      const response = await fetch(
        `${api.baseUrl}/net/image/prediction/?image_link=${encodeURIComponent(images.url(`/${index}.jpg`))}`,
        { method: 'POST' },
      );
      const body = (await response.json()) as Record<string, unknown>;
      expect(Object.keys(body)).toEqual(['model-prediction', 'model-prediction-confidence-score']);
      expect(response.headers.get('x-model-version')).toBe(manifest.version);
      if (abstains(input)) expect(body['model-prediction']).toBe('unknown');
      else expect(body['model-prediction']).not.toBe('unknown');
      expect(body['model-prediction-confidence-score']).toBeCloseTo(input.confidence, 5);
    }
  });

  it('counts every abstention, and shows the manifest’s own drift thresholds', async () => {
    const metrics = await (await fetch(`${api.baseUrl}/metrics`)).text();
    const counted = (protocol: string) =>
      Number(
        metrics
          .split('\n')
          .find(
            (line) =>
              line.startsWith('food_vision_abstentions_total{') && line.includes(`protocol="${protocol}"`),
          )
          ?.split(' ')
          .pop() ?? 0,
      );
    const underThreshold = inputs.filter((input) => abstains(input)).length;
    // /v1: each input once at the model's threshold, plus the batch item at min_confidence 1.
    expect(counted('v1')).toBe(underThreshold + 1);
    expect(counted('v2')).toBe(underThreshold + inputs.filter((input) => abstains(input, 0.9)).length);
    expect(counted('grpc')).toBe(underThreshold + inputs.filter((input) => abstains(input, 0.05)).length);
    expect(counted('seed')).toBe(underThreshold);
    const model = (await (await fetch(`${api.baseUrl}/v1/models/${manifest.name}`)).json()) as {
      monitoring: { thresholds: object };
    };
    expect(model.monitoring.thresholds).toEqual({ confidence: 0.33, class_mix: 0.44 });
  });
});
