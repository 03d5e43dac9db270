/**
 * Protocol input written as an attacker would (Triton's L0_http suite tries the same classes): JSON nested far
 * past any stack, the binary tensor extension's sizes that do not add up, tensors whose shapes, counts and values
 * cannot be. Every one gets a 4xx with a message that says what was wrong (problem+json with a `code` on /v1,
 * `{"error"}` on /v2), and the service still classifies a real photo afterwards.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE_MODELS, foodPhotos } from '../support/shared-data';
import { startTestApp, type RunningApp } from '../support/test-app';

const MODEL = 'food101-mobilenet-v1-int8';
const INFER = `/v2/models/${MODEL}/infer`;
const pizza = readFileSync(foodPhotos().find((photo) => photo.file === 'pizza__1.jpg')!.path);
const DEPTH = 50_000;
const nestedArray = (depth: number, leaf = '1') => '['.repeat(depth) + leaf + ']'.repeat(depth);
const nestedObject = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);

async function send(
  app: RunningApp,
  path: string,
  body: string | Buffer,
  headers: Record<string, string> = { 'content-type': 'application/json' },
): Promise<Response> {
  return fetch(`${app.baseUrl}${path}`, { method: 'POST', headers, body });
}

async function expectProblem(response: Response, status: number, code: string, detail?: RegExp) {
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const body = (await response.json()) as { status: number; code: string; detail: string };
  expect({ status: response.status, code: body.code }).toEqual({ status, code });
  if (detail) expect(body.detail).toMatch(detail);
}

async function expectV2Error(response: Response, status: number, message: RegExp) {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  const body = (await response.json()) as Record<string, unknown>;
  expect(Object.keys(body)).toEqual(['error']);
  expect(body.error).toMatch(message);
  expect((body.error as string).length).toBeLessThan(600);
}

async function expectStillClassifiesPizza(app: RunningApp) {
  const response = await send(app, '/v1/predictions', JSON.stringify({ image: pizza.toString('base64') }));
  expect(response.status).toBe(200);
  const body = (await response.json()) as { predictions: Array<{ label: string }> };
  expect(body.predictions[0].label).toBe('pizza');
}

function binaryBody(header: unknown, tensors: Buffer[], headerLength?: number) {
  const json = Buffer.from(JSON.stringify(header));
  return {
    body: Buffer.concat([json, ...tensors]),
    headers: {
      'content-type': 'application/octet-stream',
      'inference-header-content-length': String(headerLength ?? json.length),
    },
  };
}

const bytesElement = (bytes: Buffer) => {
  const length = Buffer.alloc(4);
  length.writeUInt32LE(bytes.length);
  return Buffer.concat([length, bytes]);
};

describe('hostile protocol input', () => {
  let running: RunningApp;

  beforeAll(async () => {
    running = await startTestApp(FIXTURE_MODELS.food101Tflite, { INFERENCE_WORKERS: '1' });
  });

  afterAll(async () => {
    await running?.close();
  });

  describe('JSON nested deeper than MAX_JSON_DEPTH (64) is refused before it is parsed', () => {
    const v1Bodies = {
      'the body itself': nestedArray(DEPTH),
      'the url field': `{"url": ${nestedArray(DEPTH)}}`,
      'the image field': `{"image": ${nestedObject(DEPTH)}}`,
      'an unknown field': `{"image": "aGk=", "extra": ${nestedArray(DEPTH)}}`,
    };
    for (const [where, body] of Object.entries(v1Bodies)) {
      it(`POST /v1/predictions, nested in ${where}: 400 json_too_deep`, async () => {
        await expectProblem(
          await send(running, '/v1/predictions', body),
          400,
          'json_too_deep',
          /more than 64 levels deep \(MAX_JSON_DEPTH\)/,
        );
      });
    }

    it('POST /v1/predictions/batch, nested in items or in one item: 400 json_too_deep', async () => {
      for (const body of [
        `{"items": ${nestedArray(DEPTH)}}`,
        `{"items": [{"url": ${nestedArray(DEPTH)}}]}`,
        `{"items": [{"image": "aGk="}], "top_k": ${nestedObject(DEPTH)}}`,
      ]) {
        await expectProblem(await send(running, '/v1/predictions/batch', body), 400, 'json_too_deep');
      }
    });

    it('POST /v1/models/{name}/reload with a deep body: 400 json_too_deep', async () => {
      await expectProblem(
        await send(running, `/v1/models/${MODEL}/reload`, nestedArray(DEPTH)),
        400,
        'json_too_deep',
      );
    });

    it('/v2 infer, deep in the body or in a tensor\'s data, as JSON, as text and before binary data: 400 {"error"}', async () => {
      const deepData = `{"inputs":[{"name":"input","datatype":"FP32","shape":[1],"data":${nestedArray(DEPTH)}}]}`;
      await expectV2Error(await send(running, INFER, nestedArray(DEPTH)), 400, /more than 64 levels deep/);
      await expectV2Error(await send(running, INFER, deepData), 400, /more than 64 levels deep/);
      await expectV2Error(
        await send(running, INFER, deepData, { 'content-type': 'text/plain' }),
        400,
        /more than 64 levels deep/,
      );
      const binary = binaryBody(JSON.parse('{"inputs":[]}'), [Buffer.alloc(4)]);
      const deepHeader = Buffer.from(deepData);
      await expectV2Error(
        await send(running, INFER, Buffer.concat([deepHeader, Buffer.alloc(4)]), {
          ...binary.headers,
          'inference-header-content-length': String(deepHeader.length),
        }),
        400,
        /more than 64 levels deep/,
      );
    });

    it('does not count brackets inside strings, and lets nesting up to the limit through to validation', async () => {
      await expectProblem(
        await send(running, '/v1/predictions', JSON.stringify({ image: '['.repeat(10_000) })),
        400,
        'invalid_base64',
      );
      // 64 levels: the object plus 63 arrays around the URL.
      await expectProblem(
        await send(running, '/v1/predictions', `{"url": ${nestedArray(63, '"x"')}}`),
        400,
        'validation_failed',
      );
      await expectProblem(
        await send(running, '/v1/predictions', `{"url": ${nestedArray(64, '"x"')}}`),
        400,
        'json_too_deep',
      );
    });
  });

  describe('binary tensor data extension: every size is checked against the body', () => {
    const image = bytesElement(pizza);
    const input = (parameters: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
      name: 'image',
      shape: [1],
      datatype: 'BYTES',
      parameters,
      ...extra,
    });
    const post = (header: unknown, tensors: Buffer[], headerLength?: number | string) => {
      const { body, headers } = binaryBody(
        header,
        tensors,
        typeof headerLength === 'number' ? headerLength : undefined,
      );
      return send(
        running,
        INFER,
        body,
        typeof headerLength === 'string'
          ? { ...headers, 'inference-header-content-length': headerLength }
          : headers,
      );
    };

    it('refuses binary_data_size declared without binary data (JSON body, no header)', async () => {
      const body = JSON.stringify({ inputs: [input({ binary_data_size: -5 }, { data: ['x'] })] });
      await expectV2Error(
        await send(running, INFER, body),
        400,
        /binary_data_size.*no Inference-Header|all JSON/,
      );
      await expectV2Error(
        await send(running, INFER, JSON.stringify({ inputs: [input({ binary_data_size: 10 })] }), {
          'content-type': 'text/plain',
        }),
        400,
        /no Inference-Header-Content-Length/,
      );
    });

    it('refuses a negative, fractional, string, huge or missing-bytes binary_data_size', async () => {
      for (const size of [-1, 1.5, '10', 1e300, Number.MAX_SAFE_INTEGER]) {
        await expectV2Error(
          await post({ inputs: [input({ binary_data_size: size })] }, [image]),
          400,
          /binary_data_size/,
        );
      }
    });

    it('refuses sizes whose sum is not the rest of the body, either way', async () => {
      await expectV2Error(
        await post({ inputs: [input({ binary_data_size: image.length - 1 })] }, [image]),
        400,
        /cut off|bytes after the JSON/,
      );
      await expectV2Error(
        await post({ inputs: [input({ binary_data_size: image.length })] }, [image, Buffer.alloc(7)]),
        400,
        /7 bytes after the JSON/,
      );
      await expectV2Error(
        await post({ inputs: [input({ binary_data_size: image.length + 1 })] }, [image]),
        400,
        /only \d+ bytes of the body are left/,
      );
      await expectV2Error(
        await post({ inputs: [{ name: 'image', shape: [1], datatype: 'BYTES', data: ['aGk='] }] }, [image]),
        400,
        /bytes after the JSON/,
      );
    });

    it('refuses an input given both as JSON data and as binary data', async () => {
      await expectV2Error(
        await post(
          { inputs: [input({ binary_data_size: image.length }, { data: [pizza.toString('base64')] })] },
          [image],
        ),
        400,
        /both "data" and binary_data_size/,
      );
    });

    it('refuses an Inference-Header-Content-Length that is not a length within the body', async () => {
      const header = { inputs: [input({ binary_data_size: image.length })] };
      for (const value of ['-1', '1.5', 'abc', '12abc', '1e3', '99999999999999999999', '']) {
        await expectV2Error(await post(header, [image], value), 400, /Inference-Header-Content-Length/);
      }
      await expectV2Error(await post(header, [image], 10_000_000), 400, /Inference-Header-Content-Length/);
      await expectV2Error(await post(header, [image], 5), 400, /not valid JSON/);
    });

    it('refuses a BYTES element whose length prefix runs past its tensor', async () => {
      const lying = Buffer.alloc(8);
      lying.writeUInt32LE(0xffffffff);
      await expectV2Error(
        await post({ inputs: [input({ binary_data_size: lying.length })] }, [lying]),
        400,
        /cut off/,
      );
    });

    it('still answers a well-formed binary request', async () => {
      const response = await post({ inputs: [input({ binary_data_size: image.length })] }, [image]);
      expect(response.status).toBe(200);
    });
  });

  describe('tensors whose shape, counts or values cannot be', () => {
    const tensor = (fields: Record<string, unknown>, outputs?: unknown) =>
      JSON.stringify({
        inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 224, 224, 3], data: [1], ...fields }],
        ...(outputs === undefined ? {} : { outputs }),
      });
    const image = (outputs: unknown) =>
      JSON.stringify({
        inputs: [{ name: 'image', datatype: 'BYTES', shape: [1], data: [pizza.toString('base64')] }],
        outputs,
      });

    it('refuses element counts that overflow, and shapes that disagree with the data', async () => {
      await expectV2Error(
        await send(running, INFER, tensor({ shape: [1, 2 ** 40, 2 ** 40, 3] })),
        400,
        /element count overflows/,
      );
      await expectV2Error(
        await send(running, INFER, tensor({ shape: [1, 224, 224, 3], data: [1, 2, 3] })),
        400,
        /holds 150528 elements, but its data has 3/,
      );
      await expectV2Error(await send(running, INFER, tensor({ shape: [1, -3] })), 400, /shape/);
      await expectV2Error(await send(running, INFER, tensor({ shape: [1.5] })), 400, /shape/);
      await expectV2Error(
        await send(running, INFER, tensor({ shape: Array.from({ length: 100 }, () => 1) })),
        400,
        /shape/,
      );
    });

    it('refuses non-finite values and "NaN" strings in FP32 data', async () => {
      const values = new Array<unknown>(224 * 224 * 3).fill(0.5);
      for (const bad of ['NaN', 'Infinity', null, true]) {
        values[7] = bad;
        await expectV2Error(await send(running, INFER, tensor({ data: values })), 400, /element 7 is/);
      }
      // 1e999 is valid JSON that parses to Infinity.
      const text = tensor({ data: values.map(() => 0.5) }).replace('0.5', '1e999');
      await expectV2Error(
        await send(running, INFER, text),
        400,
        /element 0 is null: FP32 elements are finite/,
      );
    });

    it('refuses classification counts out of range, huge outputs lists and huge names', async () => {
      for (const classification of [0, -1, 102, 1e300, 2.5, '3']) {
        await expectV2Error(
          await send(running, INFER, image([{ name: 'probabilities', parameters: { classification } }])),
          400,
          /classification/,
        );
      }
      const many = Array.from({ length: 100_000 }, () => ({ name: 'probabilities' }));
      await expectV2Error(await send(running, INFER, image(many)), 400, /outputs/);
      const longName = 'x'.repeat(1_000_000);
      await expectV2Error(await send(running, INFER, image([{ name: longName }])), 400, /name/);
      await expectV2Error(
        await send(running, INFER, tensor({ name: longName })),
        400,
        /name must be shorter than or equal to 256 characters/,
      );
    });

    it('still classifies the pizza after all of it', async () => {
      await expectStillClassifiesPizza(running);
    });
  });
});

describe('the highest MAX_JSON_DEPTH (1000): nesting just under it reaches no recursion that overflows', () => {
  let running: RunningApp;

  beforeAll(async () => {
    running = await startTestApp(FIXTURE_MODELS.food101Tflite, {
      INFERENCE_WORKERS: '1',
      MAX_JSON_DEPTH: '1000',
    });
  });

  afterAll(async () => {
    await running?.close();
  });

  it('answers 999-deep /v1 fields, batch items and tensor data with a 400 about the values', async () => {
    await expectProblem(
      await send(running, '/v1/predictions', `{"url": ${nestedArray(998)}}`),
      400,
      'validation_failed',
    );
    await expectProblem(
      await send(running, '/v1/predictions', `{"image": "aGk=", "extra": ${nestedObject(998)}}`),
      400,
      'validation_failed',
    );
    const batch = await send(running, '/v1/predictions/batch', `{"items": [{"url": ${nestedArray(997)}}]}`);
    expect(batch.status).toBe(200);
    const { results } = (await batch.json()) as { results: Array<{ status: number }> };
    expect(results[0].status).toBe(400);
    const deepData = `{"inputs":[{"name":"input","datatype":"FP32","shape":[1],"data":${nestedArray(995)}}]}`;
    await expectV2Error(await send(running, INFER, deepData), 400, /must hold 1 to|must have shape/);
    await expectV2Error(await send(running, INFER, deepData, { 'content-type': 'text/plain' }), 400, /shape/);
    await expectStillClassifiesPizza(running);
  });
});
