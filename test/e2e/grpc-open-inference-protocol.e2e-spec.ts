/**
 * The Open Inference Protocol over gRPC (open_inference_grpc.proto, inference_grpc.md), called with a grpc-js
 * client built from the committed official .proto files over 127.0.0.1, against the real Food-101 TFLite model
 * and the real photos. REST answers are the reference where both front-ends must agree.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:http2';
import { credentials, status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ImageDecoder } from '@app/imaging';
import { CONNECTION_WINDOW_BYTES, STREAM_WINDOW_BYTES } from '../../apps/api/src/grpc/flow-control';
import { GrpcFrontEnd } from '../../apps/api/src/grpc/grpc-front-end';
import { grpcClient, type GrpcTestClient } from '../support/grpc-client';
import { FIXTURE_MODELS, foodPhotos } from '../support/shared-data';
import { startTestApp, type RunningApp } from '../support/test-app';

const MODEL = 'food101-mobilenet-v1-int8';
const photos = foodPhotos();
const labels = readFileSync(join(FIXTURE_MODELS.food101Tflite.dir, 'labels.txt'), 'utf8').trim().split('\n');
const bytesOf = (path: string) => readFileSync(path);

/** BYTES raw contents: each element a 4-byte little-endian length, then its bytes. */
function rawBytes(elements: Buffer[]): Buffer {
  return Buffer.concat(
    elements.flatMap((element) => {
      const length = Buffer.alloc(4);
      length.writeUInt32LE(element.length);
      return [length, element];
    }),
  );
}

function fp32Of(raw: Buffer): number[] {
  return Array.from({ length: raw.length / 4 }, (_, i) => raw.readFloatLE(i * 4));
}

const argmax = (row: number[]) => row.reduce((best, value, i) => (value > row[best] ? i : best), 0);
const rowsOf = (data: number[], width: number) =>
  Array.from({ length: data.length / width }, (_, i) => data.slice(i * width, (i + 1) * width));

async function pixels(path: string): Promise<Uint8Array> {
  const image = await new ImageDecoder({ maxPixels: 40_000_000 }).decode(readFileSync(path), {
    width: 224,
    height: 224,
    method: 'bilinear',
    fit: 'fill',
  });
  return Uint8Array.from(image.data);
}

async function startWithGrpc(
  env: Record<string, string> = {},
): Promise<{ running: RunningApp; address: string }> {
  const running = await startTestApp(FIXTURE_MODELS.food101Tflite, env);
  const port = await running.app.get(GrpcFrontEnd).start(0, '127.0.0.1');
  return { running, address: `127.0.0.1:${port}` };
}

const imageRequest = (elements: Buffer[], extra: object = {}) => ({
  model_name: MODEL,
  inputs: [
    { name: 'image', datatype: 'BYTES', shape: [elements.length], contents: { bytes_contents: elements } },
  ],
  ...extra,
});

describe('Open Inference Protocol over gRPC with the real Food-101 model', () => {
  let running: RunningApp;
  let client: GrpcTestClient;
  let address: string;

  beforeAll(async () => {
    const started = await startWithGrpc();
    running = started.running;
    address = started.address;
    client = grpcClient(address);
  });

  it('opens HTTP/2 receive windows that take a 600 KB tensor in one flight (Node would keep 64 KiB)', async () => {
    const session = connect(`http://${address}`);
    try {
      session.once('error', (error) => expect.fail(String(error)));
      // The server's first SETTINGS are Node's defaults; its own follow at once, with the connection's update.
      await vi.waitFor(() => {
        expect(session.remoteSettings.initialWindowSize).toBe(STREAM_WINDOW_BYTES);
        expect(session.state.remoteWindowSize).toBe(CONNECTION_WINDOW_BYTES);
      });
    } finally {
      session.destroy();
    }
  });

  afterAll(async () => {
    client?.close();
    await running?.close();
  });

  describe('health and metadata', () => {
    it('answers ServerLive, ServerReady and ModelReady (by name and by version)', async () => {
      expect((await client.call('ServerLive', {})).response).toEqual({ live: true });
      expect((await client.call('ServerReady', {})).response).toEqual({ ready: true });
      expect((await client.call('ModelReady', { name: MODEL })).response).toEqual({ ready: true });
      expect((await client.call('ModelReady', { name: MODEL, version: '1' })).response).toEqual({
        ready: true,
      });
    });

    it('answers NOT_FOUND for a model or version it does not serve, INVALID_ARGUMENT without a name', async () => {
      const unknown = await client.call('ModelReady', { name: 'resnet50' });
      expect(unknown.error?.code).toBe(status.NOT_FOUND);
      expect(unknown.error?.details).toMatch(/no model named "resnet50".*food101-mobilenet-v1-int8/);
      const version = await client.call('ModelMetadata', { name: MODEL, version: '7' });
      expect(version.error?.code).toBe(status.NOT_FOUND);
      expect(version.error?.details).toMatch(/serves version 1, not 7/);
      expect((await client.call('ModelReady', {})).error?.code).toBe(status.INVALID_ARGUMENT);
    });

    it('describes the server and the model like GET /v2 and GET /v2/models/{name}', async () => {
      expect((await client.call('ServerMetadata', {})).response).toEqual({
        name: 'food-vision-api',
        version: expect.any(String),
        extensions: ['classification'],
      });
      const rest = (await (await fetch(`${running.baseUrl}/v2/models/${MODEL}`)).json()) as Record<
        string,
        unknown
      >;
      const { response } = await client.call('ModelMetadata', { name: MODEL });
      expect(response).toEqual({ ...rest, properties: {} });
      expect(response!.outputs).toEqual([{ name: 'probabilities', datatype: 'FP32', shape: [-1, 101] }]);
    });

    it('serves grpc.health.v1.Health (SERVING; NOT_FOUND for an unknown service) and reflection', async () => {
      expect((await client.health('Check', { service: '' })).response).toEqual({ status: 'SERVING' });
      expect((await client.health('Check', { service: 'inference.GRPCInferenceService' })).response).toEqual({
        status: 'SERVING',
      });
      expect((await client.health('Check', { service: 'nope' })).error?.code).toBe(status.NOT_FOUND);
      const list = (await client.health('List', {})).response as { statuses: Record<string, unknown> };
      expect(Object.keys(list.statuses).sort()).toEqual(['', 'inference.GRPCInferenceService']);
      const reflected = (await client.reflection({ list_services: '' })) as {
        list_services_response: { service: Array<{ name: string }> };
      };
      const names = reflected.list_services_response.service.map((service) => service.name);
      expect(names).toEqual(
        expect.arrayContaining(['inference.GRPCInferenceService', 'grpc.health.v1.Health']),
      );
    });
  });

  describe('ModelInfer', () => {
    it('classifies the 13 real photos (BYTES contents): at least 12 right, the same probabilities as REST', async () => {
      const { response, error } = await client.call('ModelInfer', {
        ...imageRequest(photos.map((photo) => bytesOf(photo.path))),
        id: 'grpc-1',
      });
      expect(error).toBeUndefined();
      expect(response).toMatchObject({ model_name: MODEL, model_version: '1', id: 'grpc-1' });
      const [output] = response!.outputs;
      expect(output).toMatchObject({ name: 'probabilities', datatype: 'FP32', shape: [photos.length, 101] });
      expect(response!.raw_output_contents).toEqual([]);
      const rows = rowsOf(output.contents!.fp32_contents, 101);
      const right = rows.filter((row, i) => labels[argmax(row)] === photos[i].label).length;
      expect(right).toBeGreaterThanOrEqual(12);

      const rest = (await (
        await fetch(`${running.baseUrl}/v2/models/${MODEL}/infer`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            inputs: [
              {
                name: 'image',
                datatype: 'BYTES',
                shape: [photos.length],
                data: photos.map((photo) => bytesOf(photo.path).toString('base64')),
              },
            ],
          }),
        })
      ).json()) as { outputs: Array<{ data: number[] }> };
      const restData = rest.outputs[0].data;
      output.contents!.fp32_contents.forEach((value, i) => expect(value).toBeCloseTo(restData[i], 6));
    });

    it('reads raw_input_contents and answers raw_output_contents (BYTES images, UINT8 and FP32 tensors)', async () => {
      const chosen = [photos[2], photos[7]];
      const reference = (
        await client.call('ModelInfer', imageRequest(chosen.map((photo) => bytesOf(photo.path))))
      ).response!.outputs[0].contents!.fp32_contents;

      const rawImages = await client.call('ModelInfer', {
        model_name: MODEL,
        inputs: [{ name: 'image', datatype: 'BYTES', shape: [2] }],
        raw_input_contents: [rawBytes(chosen.map((photo) => bytesOf(photo.path)))],
      });
      expect(rawImages.error).toBeUndefined();
      expect(rawImages.response!.outputs[0]).toMatchObject({
        datatype: 'FP32',
        shape: [2, 101],
        contents: null,
      });
      expect(rawImages.response!.raw_output_contents).toHaveLength(1);
      const fromRaw = fp32Of(rawImages.response!.raw_output_contents[0]);
      fromRaw.forEach((value, i) => expect(value).toBeCloseTo(reference[i], 6));

      const tensors = await Promise.all(chosen.map((photo) => pixels(photo.path)));
      const uint8 = Buffer.concat(tensors);
      const fp32 = Buffer.from(Float32Array.from(uint8).buffer);
      for (const [datatype, raw] of [
        ['UINT8', uint8],
        ['FP32', fp32],
      ] as const) {
        const answer = await client.call('ModelInfer', {
          model_name: MODEL,
          inputs: [{ name: 'input', datatype, shape: [2, 224, 224, 3] }],
          raw_input_contents: [raw],
        });
        expect(answer.error, datatype).toBeUndefined();
        const values = fp32Of(answer.response!.raw_output_contents[0]);
        expect(rowsOf(values, 101).map(argmax), datatype).toEqual(rowsOf(reference, 101).map(argmax));
        values.forEach((value, i) => expect(value).toBeCloseTo(reference[i], 5));
      }
      const typed = await client.call('ModelInfer', {
        model_name: MODEL,
        inputs: [
          {
            name: 'input',
            datatype: 'UINT8',
            shape: [1, 224, 224, 3],
            contents: { uint_contents: Array.from(tensors[0]) },
          },
        ],
      });
      const typedValues = typed.response!.outputs[0].contents!.fp32_contents;
      typedValues.forEach((value, i) => expect(value).toBeCloseTo(reference[i], 5));
    });

    it('answers the classification extension as BYTES "<probability>:<index>:<label>", raw or typed', async () => {
      const request = imageRequest([bytesOf(photos[0].path)], {
        outputs: [{ name: 'probabilities', parameters: { classification: { int64_param: 3 } } }],
      });
      const typed = (await client.call('ModelInfer', request)).response!.outputs[0];
      expect(typed).toMatchObject({ name: 'probabilities', datatype: 'BYTES', shape: [1, 3] });
      const strings = typed.contents!.bytes_contents.map((element) => element.toString('utf8'));
      expect(strings).toHaveLength(3);
      expect(strings[0].split(':')[2]).toBe(photos[0].label);
      const [probability, index, label] = strings[0].split(':');
      expect(labels[Number(index)]).toBe(label);
      expect(Number(probability)).toBeGreaterThan(0);

      const raw = await client.call('ModelInfer', {
        ...request,
        inputs: [{ name: 'image', datatype: 'BYTES', shape: [1] }],
        raw_input_contents: [rawBytes([bytesOf(photos[0].path)])],
      });
      const bytes = raw.response!.raw_output_contents[0];
      const decoded: string[] = [];
      for (let offset = 0; offset < bytes.length;) {
        const size = bytes.readUInt32LE(offset);
        decoded.push(bytes.subarray(offset + 4, offset + 4 + size).toString('utf8'));
        offset += 4 + size;
      }
      expect(decoded).toEqual(strings);
    });

    it('answers INVALID_ARGUMENT with a clear message for each kind of bad request', async () => {
      const photo = bytesOf(photos[0].path);
      const cases: Array<[object, RegExp]> = [
        [{ ...imageRequest([photo]), model_name: '' }, /model_name is required/],
        [{ model_name: MODEL, inputs: [] }, /no inputs/],
        [imageRequest([Buffer.from('not an image')]), /not a JPEG, PNG/],
        [
          {
            model_name: MODEL,
            inputs: [{ name: 'image', datatype: 'FP32', shape: [1], contents: { fp32_contents: [1] } }],
          },
          /"image" is BYTES, not FP32/,
        ],
        [
          {
            model_name: MODEL,
            inputs: [{ name: 'image', datatype: 'BYTES', shape: [2], contents: { bytes_contents: [photo] } }],
          },
          /holds 2 elements, but its data has 1/,
        ],
        [
          {
            model_name: MODEL,
            inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 10, 10, 3] }],
            raw_input_contents: [Buffer.alloc(1200)],
          },
          /must have shape \[N, 224, 224, 3\]/,
        ],
        [
          {
            model_name: MODEL,
            inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 224, 224, 3] }],
            raw_input_contents: [Buffer.alloc(7)],
          },
          /\(602112 bytes\), but its raw contents have 7 bytes/,
        ],
        [
          {
            model_name: MODEL,
            inputs: [{ name: 'input', datatype: 'INT64', shape: [1] }],
            raw_input_contents: [Buffer.alloc(8)],
          },
          /Input "input" is FP32 \(or UINT8\), not INT64/,
        ],
        [
          {
            ...imageRequest([photo]),
            raw_input_contents: [rawBytes([photo])],
          },
          /has contents although raw_input_contents is used/,
        ],
        [
          { ...imageRequest([photo]), raw_input_contents: [rawBytes([photo]), rawBytes([photo])] },
          /raw_input_contents has 2 entries for 1 inputs/,
        ],
        [
          {
            model_name: MODEL,
            inputs: [{ name: 'image', datatype: 'BYTES', shape: [1] }],
            raw_input_contents: [Buffer.from([9, 0, 0, 0, 1])],
          },
          /BYTES element is cut off/,
        ],
        [
          imageRequest([photo], {
            outputs: [{ name: 'probabilities', parameters: { classification: { string_param: 'x' } } }],
          }),
          /classification parameter is an integer/,
        ],
        [
          imageRequest([photo], {
            outputs: [{ name: 'probabilities', parameters: { classification: { int64_param: 500 } } }],
          }),
          /between 1 and 101/,
        ],
        [imageRequest([photo], { outputs: [{ name: 'logits' }] }), /no output "logits"/],
        [
          { ...imageRequest([photo]), inputs: [{ name: 'image', datatype: 'BYTES', shape: [-1] }] },
          /non-negative integers/,
        ],
      ];
      for (const [request, message] of cases) {
        const { error } = await client.call('ModelInfer', request);
        expect(error?.code, String(message)).toBe(status.INVALID_ARGUMENT);
        expect(error?.details).toMatch(message);
        expect(error?.metadata.get('food-vision-problem-code')[0]).toBeDefined();
      }
      const missing = await client.call('ModelInfer', { ...imageRequest([photo]), model_name: 'resnet50' });
      expect(missing.error?.code).toBe(status.NOT_FOUND);
      const version = await client.call('ModelInfer', { ...imageRequest([photo]), model_version: '3' });
      expect(version.error?.code).toBe(status.NOT_FOUND);
    });

    it('ends a call whose deadline passes with DEADLINE_EXCEEDED, and drops its queued work', async () => {
      const metrics = async () => (await (await fetch(`${running.baseUrl}/metrics`)).text()).toString();
      const abandoned = (text: string) =>
        Number(
          /food_vision_inference_rejections_total\{model="[^"]+",outcome="abandoned"\} (\d+)/.exec(
            text,
          )?.[1] ?? 0,
        );
      const before = abandoned(await metrics());
      const batch = Array.from({ length: 16 }, (_, i) => bytesOf(photos[i % photos.length].path));
      const { error } = await client.call('ModelInfer', imageRequest(batch), { deadlineMs: 40 });
      expect(error?.code).toBe(status.DEADLINE_EXCEEDED);
      // The server is still fine, and it did not run what nobody waits for any more.
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(abandoned(await metrics())).toBeGreaterThan(before);
      expect(
        (await client.call('ModelInfer', imageRequest([batch[0]]), { deadlineMs: 10_000 })).error,
      ).toBeUndefined();
      const text = await metrics();
      expect(text).toMatch(
        /food_vision_grpc_requests_total\{method="inference.GRPCInferenceService\/ModelInfer",code="OK"\} \d+/,
      );
      expect(text).toMatch(
        /food_vision_grpc_requests_total\{method="inference.GRPCInferenceService\/ModelInfer",code="INVALID_ARGUMENT"\} \d+/,
      );
      expect(text).toMatch(
        /food_vision_grpc_request_duration_seconds_bucket\{le="[^"]+",method="grpc.health.v1.Health\/Check",code="OK"\}/,
      );
    });
  });
});

describe('gRPC limits, overload, API keys and TLS', () => {
  let running: RunningApp;
  let client: GrpcTestClient;
  const key = 'grpc-test-key-0123456789';

  beforeAll(async () => {
    const started = await startWithGrpc({
      INFERENCE_WORKERS: '1',
      INFERENCE_QUEUE_SIZE: '0',
      MAX_IMAGE_BYTES: String(200 * 1024),
      API_KEYS: key,
    });
    running = started.running;
    client = grpcClient(started.address);
  });

  afterAll(async () => {
    client?.close();
    await running?.close();
  });

  const authorized = { metadata: { 'x-api-key': key } };

  it('requires the API key (x-api-key or Bearer) except for health answers: UNAUTHENTICATED otherwise', async () => {
    const photo = bytesOf(photos[0].path);
    expect((await client.call('ServerLive', {})).response).toEqual({ live: true });
    expect((await client.call('ServerReady', {})).response).toEqual({ ready: true });
    expect((await client.call('ModelReady', { name: MODEL })).response).toEqual({ ready: true });
    expect((await client.health('Check', { service: '' })).response).toEqual({ status: 'SERVING' });
    for (const method of ['ServerMetadata', 'ModelMetadata', 'ModelInfer']) {
      const { error } = await client.call(method, { name: MODEL, ...imageRequest([photo]) });
      expect(error?.code, method).toBe(status.UNAUTHENTICATED);
      expect(error?.details).toMatch(/requires a key/);
    }
    const wrong = await client.call('ServerMetadata', {}, { metadata: { 'x-api-key': 'nope' } });
    expect(wrong.error?.details).toMatch(/not valid/);
    expect((await client.call('ServerMetadata', {}, authorized)).error).toBeUndefined();
    expect(
      (await client.call('ServerMetadata', {}, { metadata: { authorization: `Bearer ${key}` } })).error,
    ).toBeUndefined();
  });

  it('refuses a message over the size limit with RESOURCE_EXHAUSTED, and an image over MAX_IMAGE_BYTES too', async () => {
    const limit = Math.ceil((200 * 1024 * 4) / 3) + 64 * 1024;
    const huge = await client.call('ModelInfer', imageRequest([Buffer.alloc(limit + 1024)]), authorized);
    expect(huge.error?.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(huge.error?.details).toMatch(/larger than max/i);
    const large = await client.call('ModelInfer', imageRequest([Buffer.alloc(220 * 1024, 1)]), authorized);
    expect(large.error?.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(large.error?.metadata.get('food-vision-problem-code')).toEqual(['too_large']);
    expect((await client.call('ServerLive', {})).response).toEqual({ live: true });
  });

  it('answers UNAVAILABLE with a retry hint when the queue is full, and serves the calls it admitted', async () => {
    const photo = bytesOf(photos[1].path);
    const answers = await Promise.all(
      Array.from({ length: 12 }, () => client.call('ModelInfer', imageRequest([photo]), authorized)),
    );
    const refused = answers.filter((answer) => answer.error);
    expect(refused.length).toBeGreaterThan(0);
    expect(answers.length - refused.length).toBeGreaterThan(0);
    for (const { error } of refused) {
      expect(error?.code).toBe(status.UNAVAILABLE);
      expect(error?.details).toMatch(/busy/);
      expect(Number(error?.metadata.get('retry-after')[0])).toBeGreaterThan(0);
      expect(Number(error?.metadata.get('grpc-retry-pushback-ms')[0])).toBeGreaterThan(0);
    }
  });

  it('serves over TLS when GRPC_TLS_CERT and GRPC_TLS_KEY are set, and refuses plaintext then', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'grpc-tls-'));
    try {
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-days',
          '1',
          '-subj',
          '/CN=localhost',
          '-addext',
          'subjectAltName=DNS:localhost,IP:127.0.0.1',
          '-keyout',
          join(dir, 'key.pem'),
          '-out',
          join(dir, 'cert.pem'),
        ],
        { stdio: 'ignore' },
      );
      const tls = await startWithGrpc({
        GRPC_TLS_CERT: join(dir, 'cert.pem'),
        GRPC_TLS_KEY: join(dir, 'key.pem'),
      });
      const secure = grpcClient(tls.address, credentials.createSsl(readFileSync(join(dir, 'cert.pem'))), {
        'grpc.ssl_target_name_override': 'localhost',
      });
      const plain = grpcClient(tls.address);
      try {
        expect((await secure.call('ServerLive', {})).response).toEqual({ live: true });
        const photo = bytesOf(photos[3].path);
        const answer = await secure.call('ModelInfer', imageRequest([photo]));
        expect(answer.error).toBeUndefined();
        expect((await plain.call('ServerLive', {}, { deadlineMs: 1000 })).error?.code).toBeOneOf([
          status.UNAVAILABLE,
          status.DEADLINE_EXCEEDED,
        ]);
      } finally {
        secure.close();
        plain.close();
        await tls.running.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
