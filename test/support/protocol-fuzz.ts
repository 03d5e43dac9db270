/**
 * Property-based fuzzing of the running service's protocol surface with fast-check: generated JSON shapes for
 * every JSON route, binary tensor bodies with arbitrary sizes, mutated multipart uploads and mutated image
 * bytes. The property for each: an answer below 500 within a few seconds, in the route's error shape
 * (problem+json with a `code` on /v1, `{"error"}` alone on /v2). Used by the CI suite (few runs, fixed seed)
 * and by `npm run fuzz` (as many runs as asked).
 */
import fc from 'fast-check';

export const FUZZ_MODEL = 'food101-mobilenet-v1-int8';
const ANSWER_WITHIN_MS = 5_000;

export interface FuzzOptions {
  baseUrl: string;
  photo: Buffer;
  runs: number;
  seed: number;
}

interface Sent {
  path: string;
  headers?: Record<string, string>;
  body: string | Buffer | FormData;
}

/** Sends one request and checks the answer; throws (fails the property) with what was wrong. */
async function check(baseUrl: string, request: Sent): Promise<void> {
  const started = performance.now();
  let response: Response;
  try {
    response = await fetch(`${baseUrl}${request.path}`, {
      method: 'POST',
      headers: request.headers,
      body: request.body,
      signal: AbortSignal.timeout(ANSWER_WITHIN_MS),
    });
  } catch (error) {
    throw new Error(`No answer within ${ANSWER_WITHIN_MS} ms (${String(error)}) from ${request.path}.`, {
      cause: error,
    });
  }
  const text = await response.text();
  const where = `${request.path} answered ${response.status} after ${Math.round(performance.now() - started)} ms: ${text.slice(0, 300)}`;
  if (response.status >= 500) throw new Error(where);
  if (response.status < 400) return;
  const type = response.headers.get('content-type') ?? '';
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new Error(`Not JSON: ${where}`);
  }
  if (request.path.startsWith('/v2/')) {
    if (
      !type.startsWith('application/json') ||
      Object.keys(body).join() !== 'error' ||
      typeof body.error !== 'string'
    )
      throw new Error(`Not the protocol's {"error"}: ${where}`);
  } else if (
    !type.startsWith('application/problem+json') ||
    typeof body.code !== 'string' ||
    body.status !== response.status
  ) {
    throw new Error(`Not a problem with a code: ${where}`);
  }
}

/** Stands for an array nested `depth` levels deep; written out by toJson (fast-check itself recurses over values). */
const DEEP = '__fuzz_deep__';
type Deep = { [DEEP]: number };
const isDeep = (value: unknown): value is Deep =>
  typeof value === 'object' && value !== null && DEEP in value;

/** Any JSON, sometimes nested far past the depth limit. */
const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 6 }) },
  { weight: 1, arbitrary: fc.integer({ min: 60, max: 20_000 }).map((depth): Deep => ({ [DEEP]: depth })) },
);

function toJson(value: unknown): string {
  const depths: number[] = [];
  const text = JSON.stringify(value, (_key, inner: unknown) =>
    isDeep(inner) ? `\u0000deep${depths.push(inner[DEEP]) - 1}\u0000` : inner,
  );
  return text.replace(/"\\u0000deep(\d+)\\u0000"/g, (_match, index: string) => {
    const depth = depths[Number(index)];
    return '['.repeat(depth) + '1' + ']'.repeat(depth);
  });
}

const fieldValue = (valid: fc.Arbitrary<unknown>) => fc.oneof(valid, anyJson);

export function v1PredictionProperty(options: FuzzOptions) {
  const base64 = options.photo.toString('base64');
  const body = fc.record(
    {
      image: fieldValue(fc.constantFrom(base64, 'aGk=', '', '!!!')),
      url: fieldValue(fc.constantFrom('http://127.0.0.1:1/x.jpg', 'file:///etc/passwd', 'not a url')),
      top_k: fieldValue(fc.integer({ min: -5, max: 2_000 })),
      model: fieldValue(fc.constantFrom(FUZZ_MODEL, 'nope', 'x'.repeat(100))),
      extra: anyJson,
    },
    { requiredKeys: [] },
  );
  return fc.asyncProperty(fc.oneof(body, anyJson), async (value) => {
    await check(options.baseUrl, {
      path: '/v1/predictions',
      headers: { 'content-type': 'application/json' },
      body: toJson(value),
    });
  });
}

export function v1BatchProperty(options: FuzzOptions) {
  const item = fc.oneof(
    fc.record({ image: fieldValue(fc.constant('aGk=')) }, { requiredKeys: [] }),
    fc.record({ url: fieldValue(fc.constant('http://10.0.0.1/x.jpg')) }, { requiredKeys: [] }),
    anyJson,
  );
  const body = fc.record(
    { items: fc.oneof(fc.array(item, { maxLength: 20 }), anyJson), top_k: anyJson },
    { requiredKeys: [] },
  );
  return fc.asyncProperty(body, async (value) => {
    await check(options.baseUrl, {
      path: '/v1/predictions/batch',
      headers: { 'content-type': 'application/json' },
      body: toJson(value),
    });
  });
}

const tensorInput = fc.record(
  {
    name: fieldValue(fc.constantFrom('image', 'input', 'x'.repeat(300))),
    datatype: fieldValue(fc.constantFrom('BYTES', 'FP32', 'UINT8', 'INT64', 'fp32')),
    shape: fieldValue(
      fc.array(fc.oneof(fc.integer({ min: -2, max: 300 }), fc.constantFrom(2 ** 40, 1e300, 1.5)), {
        maxLength: 6,
      }),
    ),
    data: anyJson,
    parameters: fieldValue(
      fc.record({ binary_data_size: anyJson, classification: anyJson }, { requiredKeys: [] }),
    ),
  },
  { requiredKeys: [] },
);
const requestedOutput = fc.record(
  {
    name: fieldValue(fc.constantFrom('probabilities', 'other')),
    parameters: fieldValue(
      fc.record({ classification: fieldValue(fc.integer({ min: -3, max: 200 })) }, { requiredKeys: [] }),
    ),
  },
  { requiredKeys: [] },
);
const inferRequest = fc.record(
  {
    id: anyJson,
    inputs: fc.oneof(fc.array(tensorInput, { maxLength: 3 }), anyJson),
    outputs: fc.oneof(fc.array(requestedOutput, { maxLength: 3 }), anyJson),
    parameters: anyJson,
  },
  { requiredKeys: [] },
);

export function v2InferJsonProperty(options: FuzzOptions) {
  return fc.asyncProperty(
    inferRequest,
    fc.constantFrom('application/json', 'text/plain', undefined),
    async (value, contentType) => {
      await check(options.baseUrl, {
        path: `/v2/models/${FUZZ_MODEL}/infer`,
        headers: contentType ? { 'content-type': contentType } : {},
        body: toJson(value),
      });
    },
  );
}

export function v2InferBinaryProperty(options: FuzzOptions) {
  return fc.asyncProperty(
    inferRequest,
    fc.uint8Array({ maxLength: 2_000 }),
    fc.oneof(
      fc.constant('exact'),
      fc.integer({ min: -10, max: 10_000 }).map(String),
      fc.string({ maxLength: 8 }),
    ),
    async (value, bytes, headerLength) => {
      const header = Buffer.from(toJson(value));
      await check(options.baseUrl, {
        path: `/v2/models/${FUZZ_MODEL}/infer`,
        headers: {
          'content-type': 'application/octet-stream',
          'inference-header-content-length': headerLength === 'exact' ? String(header.length) : headerLength,
        },
        body: Buffer.concat([header, bytes]),
      });
    },
  );
}

/** Random edits of a byte string: overwrite, cut, insert or duplicate a span. */
const mutations = fc.array(
  fc.record({
    kind: fc.constantFrom('overwrite', 'truncate', 'insert', 'duplicate'),
    at: fc.double({ min: 0, max: 1, noNaN: true }),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 64 }),
  }),
  { minLength: 1, maxLength: 6 },
);

function mutate(input: Buffer, edits: Array<{ kind: string; at: number; bytes: Uint8Array }>): Buffer {
  let data = input;
  for (const edit of edits) {
    const at = Math.floor(edit.at * data.length);
    const bytes = Buffer.from(edit.bytes);
    if (edit.kind === 'overwrite') {
      data = Buffer.from(data);
      bytes.copy(data, at);
    } else if (edit.kind === 'truncate') data = data.subarray(0, at);
    else if (edit.kind === 'insert') data = Buffer.concat([data.subarray(0, at), bytes, data.subarray(at)]);
    else data = Buffer.concat([data.subarray(0, at), data.subarray(at, at + 512), data.subarray(at)]);
  }
  return data;
}

export function multipartProperty(options: FuzzOptions) {
  const boundary = 'fuzzboundary42';
  const valid = Buffer.concat([
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="p.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`,
    ),
    options.photo.subarray(0, 4_096),
    Buffer.from(
      `\r\n--${boundary}\r\nContent-Disposition: form-data; name="top_k"\r\n\r\n3\r\n--${boundary}--\r\n`,
    ),
  ]);
  return fc.asyncProperty(
    mutations,
    fc.constantFrom(boundary, '', 'other', 'x'.repeat(3_000)),
    async (edits, declared) => {
      await check(options.baseUrl, {
        path: '/v1/predictions',
        headers: { 'content-type': `multipart/form-data; boundary=${declared}` },
        body: mutate(valid, edits),
      });
    },
  );
}

export function imageBytesProperty(options: FuzzOptions) {
  return fc.asyncProperty(mutations, async (edits) => {
    await check(options.baseUrl, {
      path: '/v1/predictions',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ image: mutate(options.photo, edits).toString('base64'), top_k: 1 }),
    });
  });
}

export const FUZZ_PROPERTIES = {
  'POST /v1/predictions with generated JSON': v1PredictionProperty,
  'POST /v1/predictions/batch with generated JSON': v1BatchProperty,
  'POST /v2 infer with generated JSON': v2InferJsonProperty,
  'POST /v2 infer with generated binary tensor bodies': v2InferBinaryProperty,
  'POST /v1/predictions with mutated multipart bodies': multipartProperty,
  'POST /v1/predictions with mutated image bytes': imageBytesProperty,
};

export async function runProperty(name: keyof typeof FUZZ_PROPERTIES, options: FuzzOptions): Promise<void> {
  // The properties differ in their generated tuple; fc.assert needs one type.
  const property = FUZZ_PROPERTIES[name](options) as unknown as fc.IAsyncProperty<[unknown]>;
  await fc.assert(property, { numRuns: options.runs, seed: options.seed });
}
