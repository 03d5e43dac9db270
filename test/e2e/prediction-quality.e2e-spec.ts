/**
 * The prediction-quality metrics against numbers computed here from the answers themselves: the real Food-101
 * model classifies the 13 shared photos through /v1 (upload and URL), /v2 (base64 and a UINT8 tensor) and gRPC,
 * and /metrics must hold, per protocol, the count and sum of the top-1 probabilities, the sum of the margins to the
 * second class, the class mix, the low-confidence count and the images' origin, format and size.
 */
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GrpcFrontEnd } from '../../apps/api/src/grpc/grpc-front-end';
import { grpcClient } from '../support/grpc-client';
import { photoRoutes, startImageServer, type ImageServer } from '../support/image-server';
import { FIXTURE_MODELS, foodPhotos } from '../support/shared-data';
import { startTestApp, type RunningApp } from '../support/test-app';

const MODEL = FIXTURE_MODELS.food101Tflite;
const manifest = JSON.parse(readFileSync(MODEL.manifest, 'utf8')) as { name: string; version: string };
const labels = readFileSync(`${MODEL.dir}/labels.txt`, 'utf8').trim().split('\n');
const photos = foodPhotos();

/** What the test computes from each answer's full probability row. */
interface Expected {
  count: number;
  confidence: number;
  margin: number;
  low: number;
  classes: Map<string, number>;
}

function expectation(rows: Float64Array[] | number[][]): Expected {
  const expected: Expected = { count: 0, confidence: 0, margin: 0, low: 0, classes: new Map() };
  for (const row of rows) {
    const sorted = [...row].sort((a, b) => b - a);
    const top = Array.from(row).indexOf(sorted[0]);
    expected.count++;
    expected.confidence += sorted[0];
    expected.margin += sorted[0] - (sorted[1] ?? 0);
    if (sorted[0] < 0.5) expected.low++;
    expected.classes.set(labels[top], (expected.classes.get(labels[top]) ?? 0) + 1);
  }
  return expected;
}

/** One sample of the Prometheus text, by name and labels (all given labels must match); 0 when absent. */
function sample(text: string, name: string, labelsWanted: Record<string, string>): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const labelText = line.slice(name.length + 1, line.lastIndexOf('}'));
    const found = Object.fromEntries(
      [...labelText.matchAll(/(\w+)="([^"]*)"/g)].map((match) => [match[1], match[2]]),
    );
    if (Object.entries(labelsWanted).every(([key, value]) => found[key] === value))
      return Number(line.split(' ').pop());
  }
  return 0;
}

describe('prediction-quality metrics, against the answers', () => {
  let api: RunningApp;
  let images: ImageServer;
  let grpcPort: number;
  const rows: Record<string, number[][]> = { v1: [], v2: [], grpc: [] };
  const v1Origins = { url: 0, upload: 0 };

  beforeAll(async () => {
    images = await startImageServer(photoRoutes(photos));
    api = await startTestApp(MODEL, { INFERENCE_WORKERS: '2' });
    grpcPort = await api.app.get(GrpcFrontEnd).start(0, '127.0.0.1');
  }, 120_000);

  afterAll(async () => {
    await api?.close();
    await images?.close();
  });

  /** The full probability row of /v2 for a photo, the way a KServe client reads it. */
  async function v2Row(body: object): Promise<number[]> {
    const response = await fetch(`${api.baseUrl}/v2/models/${manifest.name}/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(200);
    return ((await response.json()) as { outputs: Array<{ data: number[] }> }).outputs[0].data;
  }

  it('counts every classified image by protocol, class, confidence, margin and origin', async () => {
    const client = grpcClient(`127.0.0.1:${grpcPort}`);
    try {
      for (const [index, photo] of photos.entries()) {
        const bytes = readFileSync(photo.path);
        // /v1: half uploaded, half by URL; all classes asked for, so the test has the whole row.
        const form = new FormData();
        form.append('image', new Blob([new Uint8Array(bytes)], { type: 'image/jpeg' }), photo.file);
        form.append('top_k', String(labels.length));
        const v1 =
          index % 2 === 0
            ? await fetch(`${api.baseUrl}/v1/predictions`, { method: 'POST', body: form })
            : await fetch(`${api.baseUrl}/v1/predictions`, {
                method: 'POST',
                headers: { 'content-type': 'application/json' },
                body: JSON.stringify({ url: images.url(`/${index}.jpg`), top_k: labels.length }),
              });
        v1Origins[index % 2 === 0 ? 'upload' : 'url']++;
        const answer = (await v1.json()) as { predictions: Array<{ label: string; confidence: number }> };
        const row = new Array<number>(labels.length).fill(0);
        for (const prediction of answer.predictions)
          row[labels.indexOf(prediction.label)] = prediction.confidence;
        rows.v1.push(row);

        rows.v2.push(
          await v2Row({
            inputs: [{ name: 'image', datatype: 'BYTES', shape: [1], data: [bytes.toString('base64')] }],
          }),
        );
        const { response, error } = await client.call('ModelInfer', {
          model_name: manifest.name,
          inputs: [{ name: 'image', datatype: 'BYTES', shape: [1], contents: { bytes_contents: [bytes] } }],
        });
        expect(error).toBeUndefined();
        rows.grpc.push(
          (response!.outputs[0] as unknown as { contents: { fp32_contents: number[] } }).contents
            .fp32_contents,
        );
      }
      // Three tensors, resized here: origin "tensor".
      for (const photo of photos.slice(0, 3)) {
        const pixels = await sharp(readFileSync(photo.path))
          .resize(224, 224, { fit: 'fill' })
          .removeAlpha()
          .raw()
          .toBuffer();
        rows.v2.push(
          await v2Row({
            inputs: [{ name: 'input', datatype: 'UINT8', shape: [1, 224, 224, 3], data: [...pixels] }],
          }),
        );
      }
    } finally {
      client.close();
    }

    const metrics = await (await fetch(`${api.baseUrl}/metrics`)).text();
    const model = { model: manifest.name, version: manifest.version };
    for (const protocol of ['v1', 'v2', 'grpc'] as const) {
      const expected = expectation(rows[protocol]);
      const labelsFor = { ...model, protocol };
      expect(sample(metrics, 'food_vision_prediction_confidence_count', labelsFor)).toBe(expected.count);
      expect(sample(metrics, 'food_vision_prediction_confidence_sum', labelsFor)).toBeCloseTo(
        expected.confidence,
        4,
      );
      expect(sample(metrics, 'food_vision_prediction_margin_sum', labelsFor)).toBeCloseTo(expected.margin, 4);
      expect(sample(metrics, 'food_vision_low_confidence_predictions_total', labelsFor)).toBe(expected.low);
    }
    // The class mix over every protocol.
    const all = expectation([...rows.v1, ...rows.v2, ...rows.grpc]);
    expect(all.classes.size).toBeGreaterThan(5);
    for (const [label, count] of all.classes)
      expect(sample(metrics, 'food_vision_predicted_class_total', { ...model, class: label }), label).toBe(
        count,
      );

    // Origins, formats and size buckets, from the photos' own dimensions.
    const buckets = new Map<string, number>();
    for (const photo of photos) {
      const { width, height } = await sharp(readFileSync(photo.path)).metadata();
      const side = Math.max(width, height);
      const bucket =
        side < 224 ? 'under_224' : side < 1024 ? 'under_1024' : side < 4096 ? 'under_4096' : '4096_and_over';
      buckets.set(bucket, (buckets.get(bucket) ?? 0) + 1);
    }
    const classified = (origin: string, size: string) =>
      sample(metrics, 'food_vision_classified_images_total', {
        ...model,
        origin,
        format: origin === 'tensor' ? 'tensor' : 'jpeg',
        size,
      });
    for (const [size, count] of buckets) {
      // Uploads over /v1 and raw bytes over gRPC are both "upload"; base64 is /v2's JSON.
      expect(classified('base64', size)).toBe(count);
      expect(classified('upload', size) + classified('url', size)).toBe(2 * count);
    }
    const sum = (origin: string) =>
      [...buckets.keys()].reduce((total, size) => total + classified(origin, size), 0);
    expect(sum('url')).toBe(v1Origins.url);
    expect(sum('upload')).toBe(v1Origins.upload + photos.length);
    expect(classified('tensor', 'tensor')).toBe(3);
  }, 120_000);
});
