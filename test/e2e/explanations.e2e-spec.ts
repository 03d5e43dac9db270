/**
 * Occlusion explanations on the real Food-101 model (../shared), checked against the real thing rather than
 * against a heatmap coming back: localisation on composites built here (a food photo pasted at a known place on a
 * non-food background), each cell reproduced by a separate run of the model through the library, and the limits
 * (a tiny image, a three-class model, a grid too large, a batch too large, a saturated background lane).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  maskedImage,
  occlusionMap,
  resolveModel,
  type ModelRuntime,
  type ResolvedModel,
} from '@app/inference';
import { toProbabilities } from '../../libs/inference/src/processing/probabilities';
import { toModelInput } from '../../libs/inference/src/processing/to-model-input';
import { createRuntime } from '../../libs/inference/src/runtimes/create-runtime';
import { GrpcFrontEnd } from '../../apps/api/src/grpc/grpc-front-end';
import { grpcClient } from '../support/grpc-client';
import { FIXTURE_MODELS, foodPhotos } from '../support/shared-data';
import { startTestApp, type RunningApp } from '../support/test-app';
import { randomizeLastLayers } from '../support/tflite-weights';

const MODEL = FIXTURE_MODELS.food101Tflite;
const MODEL_NAME = (JSON.parse(readFileSync(MODEL.manifest, 'utf8')) as { name: string }).name;
const photos = foodPhotos();
const CANVAS = 448;
const PASTED = 150; // about a third of the canvas

interface ExplainedPrediction {
  predictions: Array<{ label: string; confidence: number }>;
  model_input?: { data: string; width: number; height: number };
  explanation: {
    method: string;
    class: { index: number; label: string; probability: number };
    parameters: { patch_size: number; stride: number; baseline: number };
    grid: { x: number[]; y: number[] };
    scores: number[][];
    overlay: { media_type: string; width: number; height: number; data: string };
    overlay_scale: number;
    cost: { masked_images: number; ms: number };
  };
}

async function upload(base: string, bytes: Buffer, query: string) {
  const form = new FormData();
  form.append('image', new Blob([new Uint8Array(bytes)], { type: 'image/jpeg' }), 'photo.jpg');
  const response = await fetch(`${base}/v1/predictions?${query}`, { method: 'POST', body: form });
  return {
    status: response.status,
    body: (await response.json()) as ExplainedPrediction & Record<string, unknown>,
  };
}

/** The grid cell with the highest score, and its centre in model-input pixels. */
function hottest(explanation: ExplainedPrediction['explanation']) {
  let best = { score: -Infinity, row: 0, col: 0 };
  explanation.scores.forEach((row, r) =>
    row.forEach((score, c) => {
      if (score > best.score) best = { score, row: r, col: c };
    }),
  );
  const half = explanation.parameters.patch_size / 2;
  return { ...best, x: explanation.grid.x[best.col] + half, y: explanation.grid.y[best.row] + half };
}

/** A composite: `photo` scaled to PASTED × PASTED at (left, top) on a CANVAS × CANVAS background. */
async function composite(
  photo: Buffer,
  background: 'grey' | 'noise' | 'blurred',
  left: number,
  top: number,
  other: Buffer,
) {
  const base =
    background === 'grey'
      ? sharp({
          create: { width: CANVAS, height: CANVAS, channels: 3, background: { r: 118, g: 128, b: 138 } },
        })
      : background === 'noise'
        ? sharp(Buffer.from(Array.from({ length: CANVAS * CANVAS * 3 }, (_, i) => (i * 2654435761) % 251)), {
            raw: { width: CANVAS, height: CANVAS, channels: 3 },
          })
        : sharp(await sharp(other).resize(CANVAS, CANVAS, { fit: 'cover' }).blur(24).toBuffer());
  const pasted = await sharp(photo).resize(PASTED, PASTED, { fit: 'cover' }).toBuffer();
  return base
    .composite([{ input: pasted, left, top }])
    .jpeg({ quality: 92 })
    .toBuffer();
}

describe('occlusion explanations on the Food-101 model', () => {
  let api: RunningApp;
  let resolved: ResolvedModel;
  let runtime: ModelRuntime;

  beforeAll(async () => {
    [api, resolved] = await Promise.all([
      startTestApp(MODEL, { INFERENCE_WORKERS: '2', BACKGROUND_WORKERS: '2', EXPLAIN_MAX_GRID_CELLS: '200' }),
      resolveModel({ manifestPath: MODEL.manifest, modelDir: MODEL.dir }),
    ]);
    runtime = await createRuntime(resolved);
  }, 120_000);

  afterAll(async () => {
    runtime?.dispose();
    await api?.close();
  });

  it('finds the pasted dish: the hottest patch falls inside it on at least 80 % of composites the model gets right', async () => {
    const corners = [
      [24, 24],
      [CANVAS - PASTED - 24, CANVAS - PASTED - 24],
      [CANVAS - PASTED - 40, 48],
      [60, CANVAS - PASTED - 60],
    ];
    const outcomes: Array<{ dish: string; background: string; top1: string; inside: boolean }> = [];
    for (const [index, photo] of photos.entries()) {
      const other = readFileSync(photos[(index + 5) % photos.length].path);
      for (const [b, background] of (['grey', 'noise', 'blurred'] as const).entries()) {
        const [left, top] = corners[(index + b) % corners.length];
        const bytes = await composite(readFileSync(photo.path), background, left, top, other);
        const { status, body } = await upload(api.baseUrl, bytes, 'explain=occlusion');
        expect(status).toBe(200);
        const spot = hottest(body.explanation);
        // The model input is the canvas resized to 224 × 224: scale the box the same way.
        const scale = body.explanation.overlay.width / CANVAS;
        const inside =
          spot.x >= left * scale &&
          spot.x <= (left + PASTED) * scale &&
          spot.y >= top * scale &&
          spot.y <= (top + PASTED) * scale;
        outcomes.push({ dish: photo.label, background, top1: body.predictions[0].label, inside });
      }
    }
    const recognised = outcomes.filter((outcome) => outcome.top1 === outcome.dish);
    const rate = recognised.filter((outcome) => outcome.inside).length / recognised.length;
    console.info(
      `localisation: ${recognised.filter((outcome) => outcome.inside).length}/${recognised.length} recognised composites (${outcomes.length} built, ${outcomes.filter((outcome) => outcome.inside).length} inside overall)`,
    );
    expect(recognised.length).toBeGreaterThanOrEqual(8);
    expect(rate).toBeGreaterThanOrEqual(0.8);
  }, 180_000);

  it('reports, for each patch, what a separate run of the model on that masked input gives', async () => {
    const photo = readFileSync(photos.find((one) => one.label === 'steak')!.path);
    const { status, body } = await upload(
      api.baseUrl,
      photo,
      'explain=occlusion&include=model_input&explain_stride=32',
    );
    expect(status).toBe(200);
    const { explanation } = body;
    expect(explanation).toMatchObject({
      method: 'occlusion',
      parameters: { patch_size: 32, stride: 32, baseline: 128 },
      grid: { x: [0, 32, 64, 96, 128, 160, 192], y: [0, 32, 64, 96, 128, 160, 192] },
      cost: { masked_images: 49 },
    });
    expect(explanation.class.label).toBe(body.predictions[0].label);
    // The pixels the model saw, from the response's own lossless PNG.
    const { data, info } = await sharp(Buffer.from(body.model_input!.data, 'base64'))
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect(info.channels).toBe(3);
    const pixels = { data: new Uint8Array(data), width: info.width, height: info.height };
    const probability = async (image: typeof pixels) =>
      toProbabilities(
        await runtime.run(toModelInput(image, resolved.manifest.input)),
        resolved.manifest.output.kind,
      )[explanation.class.index];
    expect(await probability(pixels)).toBeCloseTo(explanation.class.probability, 6);
    const spot = hottest(explanation);
    for (const [row, col] of [
      [spot.row, spot.col],
      [0, 0],
      [3, 5],
      [6, 6],
    ]) {
      const masked = maskedImage(pixels, explanation.grid.x[col], explanation.grid.y[row], {
        patchSize: 32,
        stride: 32,
        baseline: 128,
      });
      const expected = explanation.class.probability - (await probability(masked));
      expect(explanation.scores[row][col]).toBeCloseTo(expected, 5);
    }
    // The overlay lies over model_input, pixel for pixel, and is a PNG with transparency.
    const overlay = await sharp(Buffer.from(explanation.overlay.data, 'base64')).metadata();
    expect([overlay.format, overlay.width, overlay.height, overlay.channels]).toEqual(['png', 224, 224, 4]);
    expect(explanation.overlay_scale).toBeCloseTo(Math.max(...explanation.scores.flat()), 1);
  });

  it('explains the class a client names, by label or by index', async () => {
    const photo = readFileSync(photos.find((one) => one.label === 'pizza')!.path);
    const byLabel = await upload(
      api.baseUrl,
      photo,
      'explain=occlusion&explain_patch_size=56&explain_stride=56&explain_class=steak',
    );
    expect(byLabel.status).toBe(200);
    expect(byLabel.body.explanation.class).toMatchObject({ label: 'steak' });
    const index = byLabel.body.explanation.class.index;
    const byIndex = await upload(
      api.baseUrl,
      photo,
      `explain=occlusion&explain_patch_size=56&explain_stride=56&explain_class=${index}`,
    );
    expect(byIndex.body.explanation.class.label).toBe('steak');
  });

  it('answers the limits with a clear 4xx, and a tiny image with a map', async () => {
    const photo = readFileSync(photos[0].path);
    const cases: Array<[string, RegExp]> = [
      ['explain=gradcam', /explain must be one of: occlusion/],
      ['explain=occlusion&explain_stride=1', /more than the 200 this service runs .*EXPLAIN_MAX_GRID_CELLS/],
      ['explain=occlusion&explain_patch_size=500', /explain_patch_size must be an integer from 2 to 224/],
      [
        'explain=occlusion&explain_class=cake_of_the_day',
        /explain_class must be one of this model's 101 labels/,
      ],
      ['explain_stride=16', /explain_stride needs explain=occlusion/],
    ];
    for (const [query, detail] of cases) {
      const { status, body } = await upload(api.baseUrl, photo, query);
      expect([status, body.code]).toEqual([400, 'validation_failed']);
      expect(body.detail).toMatch(detail);
    }
    const tiny = await sharp({ create: { width: 3, height: 2, channels: 3, background: '#c33' } })
      .png()
      .toBuffer();
    const { status, body } = await upload(api.baseUrl, tiny, 'explain=occlusion&explain_stride=32');
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body.explanation.scores).toHaveLength(7);

    const batch = await fetch(`${api.baseUrl}/v1/predictions/batch?explain=occlusion`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ items: [0, 1, 2].map(() => ({ image: photo.toString('base64') })) }),
    });
    expect(batch.status).toBe(400);
    expect(((await batch.json()) as { detail: string }).detail).toMatch(
      /at most 2 items \(EXPLAIN_MAX_BATCH_ITEMS\)/,
    );
    const small = await fetch(
      `${api.baseUrl}/v1/predictions/batch?explain=occlusion&explain_patch_size=56&explain_stride=56`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ items: [{ image: photo.toString('base64') }] }),
      },
    );
    const result = (
      (await small.json()) as { results: Array<{ status: number; prediction: ExplainedPrediction }> }
    ).results[0];
    expect(result.status).toBe(200);
    expect(result.prediction.explanation.cost.masked_images).toBe(16);
  });

  it('answers the same map through /v2 and gRPC as an `explanation` output (the explanation extension)', async () => {
    const photo = readFileSync(photos.find((one) => one.label === 'falafel')!.path);
    const v1 = await upload(api.baseUrl, photo, 'explain=occlusion&explain_stride=32');
    const request = {
      inputs: [{ name: 'image', datatype: 'BYTES', shape: [1], data: [photo.toString('base64')] }],
      outputs: [
        { name: 'probabilities' },
        { name: 'explanation', parameters: { method: 'occlusion', stride: 32 } },
      ],
    };
    const rest = await fetch(`${api.baseUrl}/v2/models/${MODEL_NAME}/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(request),
    });
    expect(rest.status).toBe(200);
    const answer = (await rest.json()) as {
      outputs: Array<{
        name: string;
        shape: number[];
        datatype: string;
        data: number[];
        parameters?: Record<string, unknown>;
      }>;
    };
    const explanation = answer.outputs.find((output) => output.name === 'explanation')!;
    expect(explanation).toMatchObject({
      shape: [1, 7, 7],
      datatype: 'FP32',
      parameters: {
        method: 'occlusion',
        patch_size: 32,
        stride: 32,
        baseline: 128,
        grid_x: '0,32,64,96,128,160,192',
        class_label: 'falafel',
        masked_images: 49,
      },
    });
    const expected = v1.body.explanation.scores.flat();
    explanation.data.forEach((value, index) => expect(value).toBeCloseTo(expected[index], 5));

    const port = await api.app.get(GrpcFrontEnd).start(0, '127.0.0.1');
    const client = grpcClient(`127.0.0.1:${port}`);
    try {
      const { response, error } = await client.call('ModelInfer', {
        model_name: MODEL_NAME,
        inputs: [{ name: 'image', datatype: 'BYTES', shape: [1], contents: { bytes_contents: [photo] } }],
        outputs: [{ name: 'explanation', parameters: { stride: { int64_param: 32 } } }],
      });
      expect(error).toBeUndefined();
      const [output] = response!.outputs as unknown as Array<{
        shape: number[];
        contents: { fp32_contents: number[] };
        parameters: Record<string, { string_param?: string; int64_param?: number }>;
      }>;
      expect(output.shape).toEqual([1, 7, 7]);
      expect(output.parameters.class_label.string_param).toBe('falafel');
      expect(output.parameters.masked_images.int64_param).toBe(49);
      output.contents.fp32_contents.forEach((value, index) => expect(value).toBeCloseTo(expected[index], 5));
    } finally {
      client.close();
    }

    // A tensor input has no pixels to mask: a clear 400, not a guess.
    const tensor = await fetch(`${api.baseUrl}/v2/models/${MODEL_NAME}/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        inputs: [
          {
            name: 'input',
            datatype: 'UINT8',
            shape: [1, 224, 224, 3],
            data: new Array(224 * 224 * 3).fill(9),
          },
        ],
        outputs: [{ name: 'explanation' }],
      }),
    });
    expect(tensor.status).toBe(400);
    expect(((await tensor.json()) as { error: string }).error).toMatch(/needs image files in input "image"/);
  });
});

describe('explanations on a three-class model, and with the background lane saturated', () => {
  let api: RunningApp;

  beforeAll(async () => {
    api = await startTestApp(FIXTURE_MODELS.food101ThreeClassTflite, {
      INFERENCE_WORKERS: '2',
      BACKGROUND_WORKERS: '1',
      BACKGROUND_QUEUE_SIZE: '4',
    });
  }, 120_000);

  afterAll(() => api?.close());

  it('explains a three-class model, and sheds explanations (503) while interactive requests keep being answered', async () => {
    const photo = readFileSync(photos.find((one) => one.label === 'pizza')!.path);
    const single = await upload(api.baseUrl, photo, 'explain=occlusion');
    expect(single.status).toBe(200);
    expect(single.body.explanation.scores).toHaveLength(single.body.explanation.grid.y.length);

    // Eight explanations at once, each keeping four masked images waiting, against a background queue of four.
    const explanations = Array.from({ length: 8 }, () => upload(api.baseUrl, photo, 'explain=occlusion'));
    const interactive = Array.from({ length: 6 }, () => upload(api.baseUrl, photo, ''));
    const answered = await Promise.all([...explanations, ...interactive]);
    const explained = answered.slice(0, 8);
    for (const { status, body } of explained) {
      expect([200, 503]).toContain(status);
      if (status === 503) expect(body.code).toBe('overloaded');
    }
    expect(explained.filter(({ status }) => status === 503).length).toBeGreaterThan(0);
    for (const { status } of answered.slice(8)) expect(status).toBe(200);
  }, 120_000);
});

/** Spearman's rank correlation (ties share their mean rank). */
function spearman(a: number[], b: number[]): number {
  const ranks = (values: number[]) => {
    const order = values.map((value, index) => ({ value, index })).sort((x, y) => x.value - y.value);
    const rank = new Array<number>(values.length);
    for (let i = 0; i < order.length;) {
      let j = i;
      while (j + 1 < order.length && order[j + 1].value === order[i].value) j++;
      for (let k = i; k <= j; k++) rank[order[k].index] = (i + j) / 2;
      i = j + 1;
    }
    return rank;
  };
  const [ra, rb] = [ranks(a), ranks(b)];
  const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
  const [ma, mb] = [mean(ra), mean(rb)];
  let covariance = 0;
  let va = 0;
  let vb = 0;
  for (let i = 0; i < ra.length; i++) {
    covariance += (ra[i] - ma) * (rb[i] - mb);
    va += (ra[i] - ma) ** 2;
    vb += (rb[i] - mb) ** 2;
  }
  return va === 0 || vb === 0 ? 0 : covariance / Math.sqrt(va * vb);
}

describe('the saliency sanity check (Adebayo et al., 2018)', () => {
  it('gives a different map once the model’s last layers hold random weights', async () => {
    const resolved = await resolveModel({ manifestPath: MODEL.manifest, modelDir: MODEL.dir });
    const dir = mkdtempSync(join(tmpdir(), 'randomised-model-'));
    const trained = await createRuntime(resolved);
    const runtimes = [trained];
    try {
      const randomised = async (layers: number) => {
        const { bytes, changed } = randomizeLastLayers(readFileSync(resolved.entryPath), layers);
        expect(changed).toBe(layers);
        const entryPath = join(dir, `last-${layers}.tflite`);
        writeFileSync(entryPath, bytes);
        const runtime = await createRuntime({ ...resolved, entryPath });
        runtimes.push(runtime);
        return runtime;
      };
      const photo = readFileSync(photos.find((one) => one.label === 'falafel')!.path);
      const { data, info } = await sharp(photo)
        .resize(224, 224, { fit: 'fill' })
        .removeAlpha()
        .raw()
        .toBuffer({ resolveWithObject: true });
      const image = { data: new Uint8Array(data), width: info.width, height: info.height };
      const parameters = { patchSize: 32, stride: 16, baseline: 128 };
      const probabilities = async (runtime: ModelRuntime, pixels: typeof image) =>
        toProbabilities(
          await runtime.run(toModelInput(pixels, resolved.manifest.input)),
          resolved.manifest.output.kind,
        );
      // Each model's map of its own top-1 class, as the service would draw it.
      const map = async (runtime: ModelRuntime) => {
        const whole = await probabilities(runtime, image);
        const target = whole.indexOf(Math.max(...whole));
        const own = whole[target];
        const result = await occlusionMap(
          image,
          own,
          parameters,
          async (masked) => (await probabilities(runtime, masked))[target],
          1,
        );
        return Array.from(result.scores);
      };
      const reference = await map(trained);
      const again = await map(trained);
      expect(Math.max(...reference) - Math.min(...reference)).toBeGreaterThan(0.1);
      expect(spearman(reference, again)).toBe(1);
      const correlations = [];
      for (const layers of [1, 2])
        correlations.push(spearman(reference, await map(await randomised(layers))));
      console.info(
        `sanity: rank correlation with the trained map, last 1 and 2 layers random: ${correlations.map((value) => value.toFixed(3)).join(', ')}`,
      );
      for (const correlation of correlations) expect(correlation).toBeLessThan(0.5);
    } finally {
      runtimes.forEach((runtime) => runtime.dispose());
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
