/**
 * Malformed HTTP over raw sockets to 127.0.0.1: each gets a 4xx or a closed connection, never a 5xx or a
 * socket held forever, and the server keeps classifying a real photo meanwhile and afterwards.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE_MODELS, foodPhotos } from '../support/shared-data';
import { startTestApp, type RunningApp } from '../support/test-app';

const pizza = readFileSync(foodPhotos().find((photo) => photo.file === 'pizza__1.jpg')!.path);

interface RawAnswer {
  /** The status line's code, or undefined when the server closed without answering. */
  status?: number;
  text: string;
  closed: boolean;
  ms: number;
}

/** Writes `chunks` on a fresh connection (then keeps it open), and collects what comes back until it closes. */
function raw(port: number, chunks: Array<string | Buffer>, { endAfterMs = 60_000 } = {}): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = connect(port, '127.0.0.1');
    let text = '';
    const done = (closed: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      const match = /^HTTP\/1\.1 (\d{3})/.exec(text);
      resolve({
        status: match ? Number(match[1]) : undefined,
        text,
        closed,
        ms: performance.now() - started,
      });
    };
    const timer = setTimeout(() => done(false), endAfterMs);
    socket.on('connect', () => chunks.forEach((chunk) => socket.write(chunk)));
    socket.on('data', (data) => (text += data.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => done(true));
  });
}

async function classifiesPizza(app: RunningApp): Promise<void> {
  const response = await fetch(`${app.baseUrl}/v1/predictions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ image: pizza.toString('base64') }),
  });
  expect(response.status).toBe(200);
  const body = (await response.json()) as { predictions: Array<{ label: string }> };
  expect(body.predictions[0].label).toBe('pizza');
}

const json = '{"image":"aGk="}';
/** One chunk of a chunked body (the final zero-length chunk is never sent by the tests that use this). */
const chunk = (data: string | Buffer) =>
  Buffer.concat([
    Buffer.from(`${Buffer.byteLength(data).toString(16)}\r\n`),
    Buffer.from(data),
    Buffer.from('\r\n'),
  ]);
const head = (lines: string[]) => `${lines.join('\r\n')}\r\n\r\n`;

describe('malformed HTTP', () => {
  let running: RunningApp;
  let port: number;

  beforeAll(async () => {
    running = await startTestApp(FIXTURE_MODELS.food101Tflite, {
      INFERENCE_WORKERS: '1',
      HTTP_REQUEST_TIMEOUT_MS: '2000',
    });
    port = Number(new URL(running.baseUrl).port);
  });

  afterAll(async () => {
    await running?.close();
  });

  const cases: Record<string, Array<string | Buffer>> = {
    'a Content-Length that is not a number': [
      head([
        'POST /v1/predictions HTTP/1.1',
        'Host: x',
        'Content-Type: application/json',
        'Content-Length: abc',
      ]),
      json,
    ],
    'a negative Content-Length': [
      head([
        'POST /v1/predictions HTTP/1.1',
        'Host: x',
        'Content-Type: application/json',
        'Content-Length: -5',
      ]),
      json,
    ],
    'two different Content-Lengths': [
      head([
        'POST /v1/predictions HTTP/1.1',
        'Host: x',
        'Content-Type: application/json',
        'Content-Length: 16',
        'Content-Length: 3',
      ]),
      json,
    ],
    'Content-Length together with chunked (request smuggling)': [
      head([
        'POST /v1/predictions HTTP/1.1',
        'Host: x',
        'Content-Type: application/json',
        'Content-Length: 16',
        'Transfer-Encoding: chunked',
      ]),
      `10\r\n${json}\r\n0\r\n\r\n`,
    ],
    'a chunk size that is not hex': [
      head([
        'POST /v1/predictions HTTP/1.1',
        'Host: x',
        'Content-Type: application/json',
        'Transfer-Encoding: chunked',
      ]),
      `zz\r\n${json}\r\n0\r\n\r\n`,
    ],
    'a chunk longer than its size': [
      head([
        'POST /v1/predictions HTTP/1.1',
        'Host: x',
        'Content-Type: application/json',
        'Transfer-Encoding: chunked',
      ]),
      `2\r\n${json}\r\n0\r\n\r\n`,
    ],
    'a 64 KiB header': [head(['GET /health/live HTTP/1.1', 'Host: x', `X-Big: ${'a'.repeat(64 * 1024)}`])],
    'ten thousand headers': [
      head([
        'GET /health/live HTTP/1.1',
        'Host: x',
        ...Array.from({ length: 10_000 }, (_, i) => `X-H${i}: 1`),
      ]),
    ],
    'a request line of 100 KiB': [head([`GET /${'a'.repeat(100 * 1024)} HTTP/1.1`, 'Host: x'])],
    'not HTTP at all': ['\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 a TLS hello to a plain port\r\n\r\n'],
    'a Content-Length of a terabyte (413 at once)': [
      head([
        'POST /v1/predictions HTTP/1.1',
        'Host: x',
        'Content-Type: application/json',
        'Content-Length: 1099511627776',
      ]),
      json,
    ],
  };

  for (const [what, chunks] of Object.entries(cases)) {
    it(`${what}: a 4xx or a closed connection, within seconds`, async () => {
      const answer = await raw(port, chunks, { endAfterMs: 15_000 });
      expect(answer.closed || answer.status !== undefined).toBe(true);
      if (answer.status !== undefined) {
        expect(answer.status).toBeGreaterThanOrEqual(400);
        expect(answer.status).toBeLessThan(500);
      }
      expect(answer.ms).toBeLessThan(15_000);
    });
  }

  it('a multipart boundary of 8 KiB gets an answer below 500', async () => {
    const boundary = 'b'.repeat(8 * 1024);
    const body = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="p.jpg"\r\n\r\n`),
      pizza,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const answer = await raw(port, [
      head([
        'POST /v1/predictions HTTP/1.1',
        'Host: x',
        `Content-Type: multipart/form-data; boundary=${boundary}`,
        `Content-Length: ${body.length}`,
        'Connection: close',
      ]),
      body,
    ]);
    expect(answer.status).toBeDefined();
    expect(answer.status!).toBeLessThan(500);
  });

  it('bodies that never end are cut (408 or closed) while the server keeps serving others', async () => {
    const boundary = 'x1';
    const never = [
      // A multipart upload that stops in the middle of the file and never sends its closing boundary.
      [
        head([
          'POST /v1/predictions HTTP/1.1',
          'Host: x',
          `Content-Type: multipart/form-data; boundary=${boundary}`,
          'Transfer-Encoding: chunked',
        ]),
        chunk(`--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="p.jpg"\r\n\r\n`),
        chunk(pizza.subarray(0, 2000)),
      ],
      // A Content-Length larger than what is sent.
      [
        head([
          'POST /v1/predictions HTTP/1.1',
          'Host: x',
          'Content-Type: application/json',
          'Content-Length: 5000',
        ]),
        '{"image":"',
      ],
      // Headers that never end (slowloris).
      ['POST /v1/predictions HTTP/1.1\r\nHost: x\r\nX-Slow: '],
    ].map((chunks) => raw(port, chunks, { endAfterMs: 45_000 }));
    // Meanwhile: real photos are still classified.
    for (let i = 0; i < 3; i++) await classifiesPizza(running);
    const answers = await Promise.all(never);
    for (const answer of answers) {
      expect(answer.closed).toBe(true);
      if (answer.status !== undefined) expect(answer.status).toBe(408);
    }
  }, 60_000);

  it('still classifies the pizza after all of it', async () => {
    await classifiesPizza(running);
  });
});

describe('a refused body that is still arriving (lingering close)', () => {
  let running: RunningApp;

  beforeAll(async () => {
    running = await startTestApp(FIXTURE_MODELS.food101Tflite, {}, { waitForModel: false });
  });

  afterAll(() => running?.close());

  // Python's urllib sends the whole body before it reads the answer: were the socket closed with the body unread,
  // it would get "Broken pipe" (or a reset) instead of the 413.
  it('gives the 413 to a client that sends its whole 42 MB body before reading (urllib)', async () => {
    const script = [
      'import json, sys, urllib.request, urllib.error',
      'body = b\'{"items": [{"image": "\' + b"A" * (42 * 1024 * 1024) + b\'"}]}\'',
      'request = urllib.request.Request(sys.argv[1], data=body, headers={"Content-Type": "application/json"})',
      'try:',
      '    urllib.request.urlopen(request, timeout=60)',
      '    print("200")',
      'except urllib.error.HTTPError as error:',
      '    print(error.code, json.loads(error.read())["code"])',
      'except Exception as error:',
      '    print("failed", type(error).__name__, error)',
    ].join('\n');
    // Not spawnSync: the server under test runs in this process and must keep serving meanwhile.
    const run = await promisify(execFile)(
      '/usr/bin/python3',
      ['-c', script, `${running.baseUrl}/v1/predictions/batch`],
      { encoding: 'utf8', timeout: 90_000 },
    );
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('413 payload_too_large');
  }, 120_000);
});
