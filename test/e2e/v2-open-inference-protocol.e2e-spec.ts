/**
 * The Open Inference Protocol (KServe V2) REST API, tested with requests written from the protocol's own text
 * (kserve/kserve docs/predict-api/v2/required_api.md and rest_predict_v2.yaml; Triton's
 * docs/protocol/extension_classification.md), not with the SDK. Every response is also checked against
 * openapi.json.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImageDecoder } from '@app/imaging';
import { DEFAULT_RESIZE_FIDELITY, ModelRegistry, type ModelInputSpec } from '@app/inference';
import { toModelInput } from '@app/inference/processing/to-model-input';
import { OpenApiContract } from '../support/contract';
import { FIXTURE_MODELS, foodPhotos, type FixtureModel } from '../support/shared-data';
import { startTestApp, type RunningApp } from '../support/test-app';

const MODEL = 'food101-mobilenet-v1-int8';
const photos = foodPhotos();
const labels = readFileSync(join(FIXTURE_MODELS.food101Tflite.dir, 'labels.txt'), 'utf8').trim().split('\n');
const base64Of = (path: string) => readFileSync(path).toString('base64');

interface ResponseOutput {
  name: string;
  shape: number[];
  datatype: string;
  data: Array<number | string>;
}
interface InferenceResponse {
  model_name: string;
  model_version?: string;
  id?: string;
  outputs: ResponseOutput[];
}

const contract = new OpenApiContract();
const checkedFetch = contract.fetch();

/** Sends `body` to the infer endpoint as the protocol's example does: POST, Content-Type application/json. */
function infer(baseUrl: string, body: unknown, path = `/v2/models/${MODEL}/infer`): Promise<Response> {
  return checkedFetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** "A failed request must be indicated by an HTTP error status; the body must contain the error object." */
async function expectError(response: Response, status: number, message?: RegExp): Promise<string> {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  const body = (await response.json()) as Record<string, unknown>;
  expect(Object.keys(body)).toEqual(['error']);
  expect(typeof body.error).toBe('string');
  if (message) expect(body.error).toMatch(message);
  return body.error as string;
}

/** Rows of a [N, 101] FP32 output. */
function rows(output: ResponseOutput): number[][] {
  const [count, width] = output.shape;
  return Array.from({ length: count }, (_, i) => output.data.slice(i * width, (i + 1) * width) as number[]);
}

const argmax = (row: number[]) => row.reduce((best, value, i) => (value > row[best] ? i : best), 0);

describe('Open Inference Protocol with the real Food-101 model', () => {
  let running: RunningApp;
  let url: string;

  beforeAll(async () => {
    running = await startTestApp(FIXTURE_MODELS.food101Tflite);
    url = running.baseUrl;
  });

  afterAll(async () => {
    await running?.close();
  });

  describe('health: 200 means true', () => {
    it('is live and ready, and so is the model, by name and by version', async () => {
      for (const path of [
        '/v2/health/live',
        '/v2/health/ready',
        `/v2/models/${MODEL}/ready`,
        `/v2/models/${MODEL}/versions/1/ready`,
      ]) {
        const response = await checkedFetch(`${url}${path}`);
        expect(response.status, path).toBe(200);
      }
    });

    it('answers 404 with the error object for a model or version it does not serve', async () => {
      await expectError(
        await checkedFetch(`${url}/v2/models/resnet50/ready`),
        404,
        /no model named "resnet50"/,
      );
      await expectError(
        await checkedFetch(`${url}/v2/models/${MODEL}/versions/7/ready`),
        404,
        /serves version 1, not 7/,
      );
    });
  });

  describe('metadata', () => {
    it('describes the server: name, version and the classification extension', async () => {
      const response = await checkedFetch(`${url}/v2`);
      expect(response.status).toBe(200);
      const body = (await response.json()) as { name: string; version: string; extensions: string[] };
      expect(typeof body.name).toBe('string');
      expect(typeof body.version).toBe('string');
      expect(body.extensions).toEqual(['classification', 'binary_tensor_data']);
    });

    it('describes the model: versions, platform, and tensors with -1 for the batch dimension', async () => {
      for (const path of [`/v2/models/${MODEL}`, `/v2/models/${MODEL}/versions/1`]) {
        const response = await checkedFetch(`${url}${path}`);
        expect(response.status).toBe(200);
        expect(await response.json()).toEqual({
          name: MODEL,
          versions: ['1'],
          platform: 'tensorflow_tflite',
          inputs: [
            { name: 'image', datatype: 'BYTES', shape: [-1] },
            { name: 'input', datatype: 'FP32', shape: [-1, 224, 224, 3] },
          ],
          outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [-1, 101] }],
        });
      }
      await expectError(await checkedFetch(`${url}/v2/models/resnet50`), 404);
      await expectError(await checkedFetch(`${url}/v2/models/${MODEL}/versions/2`), 404);
    });
  });

  describe('inference with a BYTES tensor of encoded photos', () => {
    let batch: InferenceResponse;

    beforeAll(async () => {
      const response = await infer(url, {
        id: '42',
        inputs: [
          {
            name: 'image',
            shape: [photos.length],
            datatype: 'BYTES',
            data: photos.map((p) => base64Of(p.path)),
          },
        ],
        outputs: [{ name: 'probabilities' }],
      });
      expect(response.status).toBe(200);
      batch = (await response.json()) as InferenceResponse;
    });

    it('returns the id, the model and one probability row per photo, each summing to 1', () => {
      expect(batch.id).toBe('42');
      expect(batch.model_name).toBe(MODEL);
      expect(batch.model_version).toBe('1');
      expect(batch.outputs).toHaveLength(1);
      const [output] = batch.outputs;
      expect(output).toMatchObject({ name: 'probabilities', datatype: 'FP32', shape: [photos.length, 101] });
      expect(output.data).toHaveLength(photos.length * 101);
      for (const row of rows(output)) {
        expect(row.every((p) => p >= 0 && p <= 1)).toBe(true);
        expect(Math.abs(row.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-3);
      }
    });

    it('classifies the photos at the accuracy floor (labels.txt order is the column order)', () => {
      const correct = rows(batch.outputs[0]).filter(
        (row, i) => labels[argmax(row)] === photos[i].label,
      ).length;
      expect(correct).toBeGreaterThanOrEqual(12);
    });

    it('agrees with the native API on the same photo', async () => {
      const response = await checkedFetch(`${url}/v1/predictions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ image: base64Of(photos[0].path), top_k: 1 }),
      });
      const native = (await response.json()) as { predictions: Array<{ label: string; confidence: number }> };
      const row = rows(batch.outputs[0])[0];
      expect(labels[argmax(row)]).toBe(native.predictions[0].label);
      expect(row[argmax(row)]).toBeCloseTo(native.predictions[0].confidence, 6);
    });

    it('returns every output when the request names none', async () => {
      const response = await infer(url, {
        inputs: [{ name: 'image', shape: [1, 1], datatype: 'BYTES', data: [[base64Of(photos[1].path)]] }],
      });
      expect(response.status).toBe(200);
      const body = (await response.json()) as InferenceResponse;
      expect(body.id).toBeUndefined();
      expect(body.outputs.map((output) => [output.name, output.shape])).toEqual([
        ['probabilities', [1, 101]],
      ]);
    });
  });

  describe('the classification extension', () => {
    it('returns the top N as BYTES "<value>:<index>:<label>", shape [batch, N], highest first', async () => {
      const data = [base64Of(photos[0].path), base64Of(photos[5].path)];
      const plain = (await (
        await infer(url, { inputs: [{ name: 'image', shape: [2], datatype: 'BYTES', data }] })
      ).json()) as InferenceResponse;
      const response = await infer(url, {
        inputs: [{ name: 'image', shape: [2], datatype: 'BYTES', data }],
        outputs: [{ name: 'probabilities', parameters: { classification: 3 } }],
      });
      expect(response.status).toBe(200);
      const [output] = ((await response.json()) as InferenceResponse).outputs;
      expect(output).toMatchObject({ name: 'probabilities', datatype: 'BYTES', shape: [2, 3] });
      expect(output.data).toHaveLength(6);
      const probabilities = rows(plain.outputs[0]);
      output.data.forEach((entry, i) => {
        const [value, index, label, ...rest] = String(entry).split(':');
        expect(rest).toEqual([]);
        const row = probabilities[Math.floor(i / 3)];
        expect(label).toBe(labels[Number(index)]);
        expect(Number(value)).toBe(row[Number(index)]);
        const rank = [...row].sort((a, b) => b - a)[i % 3];
        expect(Number(value)).toBe(rank);
      });
      expect(String(output.data[0]).split(':')[2]).toBe(photos[0].label);
    });
  });

  describe('inference with an FP32 tensor of model input', () => {
    /** The photo as this model's input, decoded and resized exactly as the service does it. */
    async function pixels(path: string): Promise<number[]> {
      const decoder = new ImageDecoder({ maxPixels: 40_000_000 });
      const image = await decoder.decode(readFileSync(path), {
        width: 224,
        height: 224,
        method: 'bilinear',
        fit: 'fill',
      });
      return Array.from(image.data);
    }

    it('gives the same probabilities as the encoded photo, flat or nested, FP32 or UINT8', async () => {
      const [first, second] = await Promise.all([pixels(photos[2].path), pixels(photos[7].path)]);
      const fromBytes = rows(
        (
          (await (
            await infer(url, {
              inputs: [
                {
                  name: 'image',
                  shape: [2],
                  datatype: 'BYTES',
                  data: [base64Of(photos[2].path), base64Of(photos[7].path)],
                },
              ],
            })
          ).json()) as InferenceResponse
        ).outputs[0],
      );
      const nested = (flat: number[]) =>
        Array.from({ length: 224 }, (_, y) =>
          Array.from({ length: 224 }, (_, x) => flat.slice((y * 224 + x) * 3, (y * 224 + x) * 3 + 3)),
        );
      const requests = [
        { name: 'input', shape: [2, 224, 224, 3], datatype: 'FP32', data: [...first, ...second] },
        { name: 'input', shape: [2, 224, 224, 3], datatype: 'FP32', data: [nested(first), nested(second)] },
        { name: 'input', shape: [2, 224, 224, 3], datatype: 'UINT8', data: [...first, ...second] },
      ];
      for (const input of requests) {
        const response = await infer(url, { inputs: [input] });
        expect(response.status).toBe(200);
        const [output] = ((await response.json()) as InferenceResponse).outputs;
        expect(output.shape).toEqual([2, 101]);
        expect(rows(output)).toEqual(fromBytes);
      }
      expect(labels[argmax(fromBytes[0])]).toBe(photos[2].label);
    });

    it('rounds FP32 values for this uint8 model, and refuses values it cannot hold', async () => {
      const flat = await pixels(photos[2].path);
      const exact = (await (
        await infer(url, {
          inputs: [{ name: 'input', shape: [1, 224, 224, 3], datatype: 'FP32', data: flat }],
        })
      ).json()) as InferenceResponse;
      const nudged = (await (
        await infer(url, {
          inputs: [
            {
              name: 'input',
              shape: [1, 224, 224, 3],
              datatype: 'FP32',
              data: flat.map((v) => (v < 255 ? v + 0.3 : v)),
            },
          ],
        })
      ).json()) as InferenceResponse;
      expect(nudged.outputs[0].data).toEqual(exact.outputs[0].data);
      const tooBright = [...flat];
      tooBright[10] = 300;
      await expectError(
        await infer(url, {
          inputs: [{ name: 'input', shape: [1, 224, 224, 3], datatype: 'FP32', data: tooBright }],
        }),
        400,
        /element 10 is 300/,
      );
    });
  });

  describe('the binary tensor data extension (Triton extension_binary_data.md)', () => {
    /** "The binary data for a tensor is delivered in the HTTP body after the JSON object", in input order. */
    function postBinary(header: unknown, tensors: Buffer[], headerLength?: number): Promise<Response> {
      const json = Buffer.from(JSON.stringify(header));
      return checkedFetch(`${url}/v2/models/${MODEL}/infer`, {
        method: 'POST',
        headers: {
          'content-type': 'application/octet-stream',
          'inference-header-content-length': String(headerLength ?? json.length),
        },
        body: Buffer.concat([json, ...tensors]),
      });
    }
    /** "For BYTES type an element is represented by a 4-byte unsigned integer giving the length followed by the actual bytes." */
    const bytesTensor = (elements: Buffer[]) =>
      Buffer.concat(
        elements.flatMap((element) => {
          const length = Buffer.alloc(4);
          length.writeUInt32LE(element.length);
          return [length, element];
        }),
      );
    const fp32Tensor = (values: number[]) => {
      const bytes = Buffer.alloc(values.length * 4);
      values.forEach((value, i) => bytes.writeFloatLE(value, i * 4));
      return bytes;
    };

    it('reads BYTES and FP32 tensors sent as bytes after the JSON, with the answers of the JSON form', async () => {
      const files = [readFileSync(photos[3].path), readFileSync(photos[4].path)];
      const asJson = (await (
        await infer(url, {
          inputs: [
            {
              name: 'image',
              shape: [2],
              datatype: 'BYTES',
              data: files.map((file) => file.toString('base64')),
            },
          ],
        })
      ).json()) as InferenceResponse;
      const images = bytesTensor(files);
      const binary = await postBinary(
        {
          inputs: [
            { name: 'image', shape: [2], datatype: 'BYTES', parameters: { binary_data_size: images.length } },
          ],
          outputs: [{ name: 'probabilities', parameters: { binary_data: false } }],
        },
        [images],
      );
      expect(binary.status).toBe(200);
      expect(await binary.json()).toEqual(asJson);

      const decoder = new ImageDecoder({ maxPixels: 40_000_000 });
      const decoded = await decoder.decode(files[0], {
        width: 224,
        height: 224,
        method: 'bilinear',
        fit: 'fill',
      });
      const tensor = fp32Tensor(Array.from(decoded.data));
      const fromTensor = await postBinary(
        {
          inputs: [
            {
              name: 'input',
              shape: [1, 224, 224, 3],
              datatype: 'FP32',
              parameters: { binary_data_size: tensor.length },
            },
          ],
        },
        [tensor],
      );
      expect(fromTensor.status).toBe(200);
      const [output] = ((await fromTensor.json()) as InferenceResponse).outputs;
      expect(output.data).toEqual(asJson.outputs[0].data.slice(0, 101));
    });

    it('reads a JSON body sent without a JSON content type', async () => {
      const response = await checkedFetch(`${url}/v2/models/${MODEL}/infer`, {
        method: 'POST',
        body: Buffer.from(
          JSON.stringify({
            inputs: [{ name: 'image', shape: [1], datatype: 'BYTES', data: [base64Of(photos[0].path)] }],
          }),
        ),
      });
      expect(response.status).toBe(200);
    });

    it('refuses sizes that do not add up, and raw binary requests', async () => {
      const images = bytesTensor([readFileSync(photos[0].path)]);
      const input = (size: number) => ({
        name: 'image',
        shape: [1],
        datatype: 'BYTES',
        parameters: { binary_data_size: size },
      });
      await expectError(
        await postBinary({ inputs: [input(images.length + 10)] }, [images]),
        400,
        /binary_data_size/,
      );
      await expectError(
        await postBinary({ inputs: [input(images.length - 10)] }, [images]),
        400,
        /cut off|after the last|10 bytes after the JSON/,
      );
      await expectError(
        await postBinary({ inputs: [input(images.length)] }, [images], 0),
        400,
        /Raw binary requests/,
      );
      await expectError(
        await postBinary({ inputs: [input(images.length)] }, [images], 10_000_000),
        400,
        /Inference-Header-Content-Length/,
      );
    });
  });

  describe('errors: 400 for a bad request, 404 for an unknown model, always {"error"}', () => {
    const photo = () => base64Of(photos[0].path);

    it('refuses a body that is not JSON, or has no inputs', async () => {
      await expectError(await infer(url, '{"inputs": ['), 400, /not valid JSON/);
      await expectError(await infer(url, {}), 400, /inputs/);
      await expectError(await infer(url, { inputs: [] }), 400, /inputs/);
    });

    it('refuses inputs and outputs this model does not have, and bad datatypes or shapes', async () => {
      const image = { name: 'image', shape: [1], datatype: 'BYTES', data: [photo()] };
      const cases: Array<[unknown, RegExp]> = [
        [{ inputs: [{ ...image, name: 'input0' }] }, /no input "input0"/],
        [{ inputs: [image, image] }, /exactly one input/],
        [{ inputs: [{ ...image, datatype: 'UINT32' }] }, /BYTES, not UINT32/],
        [{ inputs: [{ ...image, shape: [2] }] }, /holds 2 elements, but its data has 1/],
        [{ inputs: [{ ...image, shape: [1, 2], data: [photo(), photo()] }] }, /shape \[N\] or \[N, 1\]/],
        [{ inputs: [{ ...image, shape: [1.5] }] }, /shape/],
        [{ inputs: [{ ...image, data: [7] }] }, /element 0 is not a string/],
        [{ inputs: [image], outputs: [{ name: 'output0' }] }, /no output "output0"/],
        [
          { inputs: [image], outputs: [{ name: 'probabilities', parameters: { classification: 102 } }] },
          /between 1 and 101/,
        ],
        [
          { inputs: [image], outputs: [{ name: 'probabilities', parameters: { classification: 0 } }] },
          /classification/,
        ],
        [
          {
            inputs: [
              { name: 'input', shape: [1, 100, 100, 3], datatype: 'FP32', data: new Array(30000).fill(0) },
            ],
          },
          /\[N, 224, 224, 3\]/,
        ],
        [{ inputs: [{ ...image, shape: [17], data: new Array(17).fill(photo()) }] }, /1 to 16 images/],
      ];
      for (const [body, message] of cases) await expectError(await infer(url, body), 400, message);
    });

    it('names the element whose bytes are not an image, with a 4xx', async () => {
      const data = [photo(), 'not base64 at all!', Buffer.from('plain text').toString('base64')];
      await expectError(
        await infer(url, {
          inputs: [{ name: 'image', shape: [2], datatype: 'BYTES', data: data.slice(0, 2) }],
        }),
        400,
        /element 1: .*base64/,
      );
      const status = (
        await infer(url, { inputs: [{ name: 'image', shape: [1], datatype: 'BYTES', data: [data[2]] }] })
      ).status;
      expect(status).toBeGreaterThanOrEqual(400);
      expect(status).toBeLessThan(500);
    });

    it('answers 404 for an unknown model or version, and for paths outside the protocol', async () => {
      const body = { inputs: [{ name: 'image', shape: [1], datatype: 'BYTES', data: [photo()] }] };
      await expectError(
        await infer(url, body, '/v2/models/resnet50/infer'),
        404,
        /no model named "resnet50"/,
      );
      await expectError(
        await infer(url, body, `/v2/models/${MODEL}/versions/9/infer`),
        404,
        /serves version 1, not 9/,
      );
      const unknown = await fetch(`${url}/v2/repository/index`);
      await expectError(unknown, 404, /no GET \/v2\/repository\/index/);
    });

    it('answers a versioned inference like the unversioned one', async () => {
      const body = { inputs: [{ name: 'image', shape: [1], datatype: 'BYTES', data: [photo()] }] };
      const plain = (await (await infer(url, body)).json()) as InferenceResponse;
      const versioned = (await (
        await infer(url, body, `/v2/models/${MODEL}/versions/1/infer`)
      ).json()) as InferenceResponse;
      expect(versioned).toEqual(plain);
    });
  });
});

describe('Open Inference Protocol while the model cannot load', () => {
  let running: RunningApp;
  let emptyDir: string;

  beforeAll(async () => {
    emptyDir = mkdtempSync(join(tmpdir(), 'food-vision-v2-'));
    running = await startTestApp(
      { manifest: FIXTURE_MODELS.food101Tflite.manifest, dir: emptyDir },
      {},
      { waitForModel: false },
    );
    await running.app.get(ModelRegistry).load();
  });

  afterAll(async () => {
    await running?.close();
    rmSync(emptyDir, { recursive: true, force: true });
  });

  it('is live but not ready (a 4xx means false), and says why; inference is 503 with Retry-After', async () => {
    expect((await checkedFetch(`${running.baseUrl}/v2/health/live`)).status).toBe(200);
    await expectError(await checkedFetch(`${running.baseUrl}/v2/health/ready`), 400, /is missing .*tflite/);
    await expectError(
      await checkedFetch(`${running.baseUrl}/v2/models/${MODEL}/ready`),
      400,
      /could not be loaded/,
    );
    const response = await infer(running.baseUrl, {
      inputs: [{ name: 'image', shape: [1], datatype: 'BYTES', data: [base64Of(photos[0].path)] }],
    });
    expect(response.headers.get('retry-after')).toBe('5');
    await expectError(response, 503, /could not be loaded/);
  });

  it('still describes the model from its manifest', async () => {
    const response = await checkedFetch(`${running.baseUrl}/v2/models/${MODEL}`);
    expect(response.status).toBe(200);
    expect(((await response.json()) as { outputs: unknown }).outputs).toEqual([
      { name: 'probabilities', datatype: 'FP32', shape: [-1, -1] },
    ]);
  });
});

describe('Open Inference Protocol behind API keys', () => {
  let running: RunningApp;

  beforeAll(async () => {
    running = await startTestApp(
      FIXTURE_MODELS.food101Tflite,
      { API_KEYS: 'k-123456789' },
      { waitForModel: false },
    );
  });

  afterAll(async () => {
    await running?.close();
  });

  it('keeps the health probes open, and refuses the rest without a key in the protocol form', async () => {
    expect((await checkedFetch(`${running.baseUrl}/v2/health/live`)).status).toBe(200);
    const refused = await checkedFetch(`${running.baseUrl}/v2`);
    expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer/);
    await expectError(refused, 401, /requires a key/);
    const allowed = await checkedFetch(`${running.baseUrl}/v2`, {
      headers: { 'x-api-key': 'k-123456789' },
    });
    expect(allowed.status).toBe(200);
  });
});

describe('Open Inference Protocol over a model store with two models', () => {
  const THREE_CLASS = 'food101-3class-cnn';
  let store: string;
  let running: RunningApp;
  const pizza = foodPhotos().find((photo) => photo.file === 'pizza__1.jpg')!.path;

  /** `<store>/<name>/<version>/`: the fixture's manifest at `version`, with links to its files. */
  function addVersion(fixture: FixtureModel, version: string): void {
    const manifest = JSON.parse(readFileSync(fixture.manifest, 'utf8')) as {
      name: string;
      files: Array<{ path: string }>;
    };
    const dir = join(store, manifest.name, version);
    mkdirSync(dir, { recursive: true });
    for (const file of manifest.files)
      symlinkSync(join(fixture.dir, basename(file.path)), join(dir, file.path));
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ ...manifest, version }));
  }

  beforeAll(async () => {
    store = mkdtempSync(join(tmpdir(), 'food-vision-v2-store-'));
    addVersion(FIXTURE_MODELS.food101Tflite, '1');
    addVersion(FIXTURE_MODELS.food101Tflite, '2');
    addVersion(FIXTURE_MODELS.food101ThreeClassTflite, '1');
    running = await startTestApp(FIXTURE_MODELS.food101Tflite, { MODEL_STORE: store, DEFAULT_MODEL: MODEL });
  });

  afterAll(async () => {
    await running?.close();
    rmSync(store, { recursive: true, force: true });
  });

  it('describes each model by name, with the version it serves', async () => {
    const metadata = async (path: string) =>
      (await (await checkedFetch(`${running.baseUrl}${path}`)).json()) as Record<string, unknown>;
    expect(await metadata(`/v2/models/${THREE_CLASS}`)).toEqual({
      name: THREE_CLASS,
      versions: ['1'],
      platform: 'tensorflow_tflite',
      inputs: [
        { name: 'image', datatype: 'BYTES', shape: [-1] },
        { name: 'input', datatype: 'FP32', shape: [-1, 64, 64, 3] },
      ],
      outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [-1, 3] }],
    });
    expect(await metadata(`/v2/models/${MODEL}`)).toMatchObject({ versions: ['2'] });
    expect((await checkedFetch(`${running.baseUrl}/v2/models/${MODEL}/versions/2/ready`)).status).toBe(200);
    await expectError(
      await checkedFetch(`${running.baseUrl}/v2/models/${MODEL}/versions/1`),
      404,
      /serves version 2, not 1/,
    );
    expect((await checkedFetch(`${running.baseUrl}/v2/health/ready`)).status).toBe(200);
  });

  it("runs each model on its own input: photos for both, the float model's own tensor for the small one", async () => {
    const photo = { name: 'image', shape: [1], datatype: 'BYTES', data: [base64Of(pizza)] };
    const small = (await (
      await infer(running.baseUrl, { inputs: [photo] }, `/v2/models/${THREE_CLASS}/infer`)
    ).json()) as InferenceResponse;
    expect(small).toMatchObject({ model_name: THREE_CLASS, model_version: '1' });
    expect(small.outputs[0].shape).toEqual([1, 3]);
    const big = (await (
      await infer(running.baseUrl, { inputs: [photo] }, `/v2/models/${MODEL}/versions/2/infer`)
    ).json()) as InferenceResponse;
    expect(big).toMatchObject({ model_name: MODEL, model_version: '2' });
    expect(labels[argmax(rows(big.outputs[0])[0])]).toBe('pizza');

    // The 3-class model takes float32 in 0..1: the client sends exactly that, preprocessed as its manifest says.
    const spec = (
      JSON.parse(readFileSync(FIXTURE_MODELS.food101ThreeClassTflite.manifest, 'utf8')) as {
        input: ModelInputSpec;
      }
    ).input;
    const image = await new ImageDecoder({ maxPixels: 40_000_000 }).decode(readFileSync(pizza), {
      width: 64,
      height: 64,
      method: 'bilinear',
      fit: 'fill',
      // As the server decodes for this model (its manifest leaves fidelity to the default).
      fidelity: spec.resize.fidelity ?? DEFAULT_RESIZE_FIDELITY,
    });
    const tensor = Array.from(toModelInput(image, spec).data);
    expect(Math.max(...tensor)).toBeLessThanOrEqual(1);
    const fromTensor = (await (
      await infer(
        running.baseUrl,
        { inputs: [{ name: 'input', shape: [1, 64, 64, 3], datatype: 'FP32', data: tensor }] },
        `/v2/models/${THREE_CLASS}/infer`,
      )
    ).json()) as InferenceResponse;
    expect(fromTensor.outputs[0].data).toEqual(small.outputs[0].data);
    const smallLabels = readFileSync(join(FIXTURE_MODELS.food101ThreeClassTflite.dir, 'labels.txt'), 'utf8')
      .trim()
      .split('\n');
    expect(smallLabels[argmax(rows(small.outputs[0])[0])]).toBe('pizza');
  });
});
