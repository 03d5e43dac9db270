import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import type { ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtEntrypoint } from '../support/deploy-files';
import { parseResponses } from '../support/http-responses';
import { buildApp, freePort, runNode, type ServerProcess } from '../support/built-server';
import { serveBytes, startImageServer, type ImageServer, type Route } from '../support/image-server';
import { FIXTURE_MODELS, foodPhotos } from '../support/shared-data';

const MODEL = FIXTURE_MODELS.food101Tflite;
const HELD_NAMES = ['keep-alive', '1', '2', '3', '4', 'never'];
const photo = readFileSync(foodPhotos()[0].path);

describe('the built server as a process (what the container runs)', () => {
  let outDir: string;
  let removeBuild: () => void;
  let images: ImageServer;
  /** Image requests waiting for `release()`, by name: requests that are certainly in flight in the app. */
  const held = new Map<string, ServerResponse>();
  let onHeld: Array<() => void> = [];
  const started: ServerProcess[] = [];

  const heldUrl = (name: string) => images.url(`/held/${name}.jpg`);
  const release = () => {
    for (const response of held.values()) {
      response.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': photo.length }).end(photo);
    }
    held.clear();
  };
  const hold =
    (name: string): Route =>
    (_request, response) => {
      held.set(name, response);
      onHeld.forEach((listener) => listener());
    };
  const waitForHeld = (names: string[]) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (!names.every((name) => held.has(name))) return;
        onHeld = onHeld.filter((listener) => listener !== check);
        resolve();
      };
      onHeld.push(check);
      check();
    });
  const weights = readFileSync(join(MODEL.dir, 'mobilenet_v1_0.5_224_fft_int8.tflite'));

  beforeAll(async () => {
    ({ outDir, remove: removeBuild } = await buildApp());
    images = await startImageServer({
      '/photo.jpg': serveBytes(photo),
      '/weights/good.tflite': serveBytes(weights, 'application/octet-stream'),
      '/weights/wrong.tflite': serveBytes(photo, 'application/octet-stream'),
      ...Object.fromEntries(HELD_NAMES.map((name) => [`/held/${name}.jpg`, hold(name)])),
    });
  }, 240_000);

  afterAll(async () => {
    for (const process of started) process.child.kill('SIGKILL');
    release();
    await images?.close();
    removeBuild?.();
  });

  async function startServer(
    env: Record<string, string> = {},
  ): Promise<{ server: ServerProcess; base: string; port: number }> {
    const port = await freePort();
    const server = runNode(join(outDir, builtEntrypoint().replace(/^dist\//, '')), {
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
      MODEL_MANIFEST: MODEL.manifest,
      MODEL_DIR: MODEL.dir,
      IMAGE_FETCH_ALLOW_HOSTS: '127.0.0.1',
      ...env,
    });
    started.push(server);
    await server.waitForLine(/Ready on/);
    return { server, base: `http://127.0.0.1:${port}`, port };
  }

  it('listens on PORT, logs one start-up line with address, model, backend and time to ready', async () => {
    const { server, base, port } = await startServer();
    const lines = server.stdout().trim().split('\n');
    const ready = lines.filter((line) => line.includes('Ready on'));
    expect(ready).toHaveLength(1);
    const { msg } = JSON.parse(ready[0]) as { msg: string };
    expect(msg).toContain(`http://127.0.0.1:${port}`);
    expect(msg).toContain('food101-mobilenet-v1-int8@1');
    expect(msg).toContain('litert/wasm-xnnpack');
    expect(msg).toMatch(/\d+ ms to ready/);
    expect((await fetch(`${base}/health/live`)).status).toBe(200);
    expect((await fetch(`${base}/health/ready`)).status).toBe(200);

    // The container HEALTHCHECK script, against this port and against one nobody listens on.
    const healthy = runNode(join(outDir, 'apps/api/src/bin/healthcheck.js'), {
      PORT: String(port),
      HOST: '0.0.0.0',
    });
    expect((await healthy.exited).code).toBe(0);
    const unhealthy = runNode(join(outDir, 'apps/api/src/bin/healthcheck.js'), {
      PORT: String(await freePort()),
    });
    expect((await unhealthy.exited).code).toBe(1);

    server.child.kill('SIGTERM');
    expect(await server.exited, server.stdout() + server.stderr()).toEqual({ code: 0, signal: null });
  });

  it('writes JSON logs with the request id, and no image bytes, keys or query strings', async () => {
    const { server, base } = await startServer();
    const base64 = photo.toString('base64');
    const upload = await fetch(`${base}/v1/predictions`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-request-id': 'log-check-1',
        authorization: 'Bearer bearer-secret-0123456789',
        'x-api-key': 'header-secret-0123456789',
        cookie: 'session=cookie-secret-0123456789',
      },
      body: JSON.stringify({ image: base64 }),
    });
    expect(upload.status).toBe(200);
    const link = encodeURIComponent(`${images.url('/photo.jpg')}?signature=query-secret-0123456789`);
    const seed = await fetch(`${base}/net/image/prediction?image_link=${link}`, {
      method: 'POST',
      headers: { 'x-request-id': 'log-check-2' },
    });
    expect(seed.status).toBe(200);
    await server.waitForLine(/log-check-2/);
    server.child.kill('SIGTERM');
    await server.exited;

    const output = server.stdout();
    const records = output
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const access = records.find((record) => record.request_id === 'log-check-1');
    expect(access).toMatchObject({
      level: 30,
      req: { method: 'POST', path: '/v1/predictions' },
      res: { status: 200 },
    });
    expect(typeof access!.duration_ms).toBe('number');
    expect(records.find((record) => record.request_id === 'log-check-2')).toMatchObject({
      req: { path: '/net/image/prediction' },
    });
    for (const secret of ['bearer-secret', 'header-secret', 'cookie-secret', 'query-secret']) {
      expect(output).not.toContain(secret);
    }
    expect(output).not.toContain(base64.slice(1000, 1100));
    expect(output.length).toBeLessThan(base64.length);
  });

  it('on SIGTERM: readiness turns 503 at once, new connections are refused, accepted requests finish, exit 0', async () => {
    const { server, port } = await startServer();
    const base = `http://127.0.0.1:${port}`;
    // One keep-alive connection, busy with a held prediction when SIGTERM arrives.
    const socket = connect(port, '127.0.0.1');
    const received: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    const socketClosed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    const body = JSON.stringify({ url: heldUrl('keep-alive') });
    socket.write(
      `POST /v1/predictions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    const inFlight = [1, 2, 3, 4].map((i) =>
      fetch(`${base}/v1/predictions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ url: heldUrl(String(i)) }),
      }).then(async (response) => ({
        status: response.status,
        body: (await response.json()) as { predictions: unknown[] },
      })),
    );
    await waitForHeld(['keep-alive', '1', '2', '3', '4']);

    server.child.kill('SIGTERM');
    await server.waitForLine(/SIGTERM received/);
    // The listener is closed: a new connection is refused.
    await expect(
      new Promise((resolve, reject) =>
        connect(port, '127.0.0.1').once('connect', resolve).once('error', reject),
      ),
    ).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    // A request on the open connection still gets an answer: readiness is 503.
    socket.write('GET /health/ready HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');

    release();
    for (const answer of await Promise.all(inFlight)) {
      expect(answer.status).toBe(200);
      expect(answer.body.predictions.length).toBeGreaterThan(0);
    }
    await socketClosed;
    const [prediction, readiness] = parseResponses(Buffer.concat(received));
    expect(prediction.status).toBe(200);
    expect((JSON.parse(prediction.body) as { predictions: unknown[] }).predictions.length).toBeGreaterThan(0);
    expect(readiness.status).toBe(503);
    expect(readiness.headers.connection).toBe('close');
    expect(JSON.parse(readiness.body)).toMatchObject({ code: 'shutting_down', status: 503 });
    expect(await server.exited, server.stdout() + server.stderr()).toEqual({ code: 0, signal: null });
    expect(server.stdout()).toMatch(/Stopped after \d+ ms/);
  });

  it('cuts requests still running after SHUTDOWN_DRAIN_TIMEOUT_MS, then exits 0', async () => {
    const { server, base } = await startServer({ SHUTDOWN_DRAIN_TIMEOUT_MS: '300' });
    const stuck = fetch(`${base}/v1/predictions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: heldUrl('never') }),
    });
    await waitForHeld(['never']);
    server.child.kill('SIGTERM');
    // Requests racing the signal are refused, answered in full, or cut at the deadline; never half-answered.
    const racing = [1, 2, 3].map(() =>
      fetch(`${base}/v1/predictions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ url: images.url('/photo.jpg') }),
      }).then(
        async (response) => ({
          status: response.status,
          body: (await response.json()) as { predictions?: unknown[] },
        }),
        (error: Error) => error,
      ),
    );
    await expect(stuck).rejects.toThrow();
    for (const outcome of await Promise.all(racing)) {
      if (outcome instanceof Error) continue;
      expect(outcome.status).toBe(200);
      expect(outcome.body.predictions?.length).toBeGreaterThan(0);
    }
    expect(await server.exited, server.stdout() + server.stderr()).toEqual({ code: 0, signal: null });
    expect(server.stdout()).toMatch(/Drain timeout \(300 ms\): cutting 1 unfinished request/);
    release();
  });

  it('on SIGTERM during a burst past the queue, a reload, a stalled upload and a slow reader: every request answered or refused, exit 0', async () => {
    const { server, base, port } = await startServer({
      INFERENCE_WORKERS: '1',
      INFERENCE_QUEUE_SIZE: '1',
      SHUTDOWN_DRAIN_TIMEOUT_MS: '2000',
    });
    const image = JSON.stringify({ image: photo.toString('base64') });
    // A reader that takes nothing, and an upload that stops halfway.
    const slow = connect(port, '127.0.0.1');
    slow.on('error', () => undefined);
    const takeNothing = () => undefined;
    const answerStarted = new Promise((resolve) => slow.once('readable', resolve));
    slow.on('readable', takeNothing);
    slow.write('GET /docs-json HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    const stalled = connect(port, '127.0.0.1');
    stalled.on('error', () => undefined);
    stalled.write(
      'POST /v1/predictions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{"image":"',
    );
    const closed = (socket: typeof slow) =>
      new Promise<void>((resolve) => socket.once('close', () => resolve()));
    const socketsClosed = Promise.all([closed(slow), closed(stalled)]);
    const send = (path: string, body?: string) =>
      fetch(`${base}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      }).then(
        async (response) => ({ status: response.status, body: (await response.json()) as { code?: string } }),
        (error: Error) => error,
      );
    await answerStarted;
    await new Promise((resolve) => (stalled.connecting ? stalled.once('connect', resolve) : resolve(null)));
    const burst = Array.from({ length: 12 }, () => send('/v1/predictions', image));
    const reload = send(`/v1/models/food101-mobilenet-v1-int8/reload`);
    server.child.kill('SIGTERM');
    for (const outcome of [...(await Promise.all(burst)), await reload]) {
      // Refused at the socket after the listener closed, or answered in full: 200, or 503 with its reason.
      if (outcome instanceof Error) continue;
      if (outcome.status !== 200) {
        expect(outcome.status).toBe(503);
        expect(['overloaded', 'shutting_down', 'inference_timeout']).toContain(outcome.body.code);
      }
    }
    expect(await server.exited, server.stdout() + server.stderr()).toEqual({ code: 0, signal: null });
    // The slow reader sees the close once it reads what was sent before it.
    slow.off('readable', takeNothing);
    slow.resume();
    await socketsClosed;
  });

  describe('fetch-model (init container, compose and Heroku start)', () => {
    let work: string;
    beforeAll(() => {
      work = mkdtempSync(join(tmpdir(), 'food-vision-fetch-model-'));
    });
    afterAll(() => rmSync(work, { recursive: true, force: true }));

    /** The fixture manifest, with its source URL pointed at the local server, and a model folder holding labels.txt. */
    function setUp(name: string, sourcePath: string): { manifest: string; dir: string; entry: string } {
      const manifest = JSON.parse(readFileSync(MODEL.manifest, 'utf8')) as {
        source: { url: string };
        entry: string;
      };
      manifest.source.url = images.url(sourcePath);
      const manifestPath = join(work, `${name}.json`);
      writeFileSync(manifestPath, JSON.stringify(manifest));
      const dir = join(work, name);
      mkdirSync(dir);
      copyFileSync(join(MODEL.dir, 'labels.txt'), join(dir, 'labels.txt'));
      return { manifest: manifestPath, dir, entry: join(dir, manifest.entry) };
    }

    const fetchModel = (manifest: string, dir: string) =>
      runNode(join(outDir, 'apps/api/src/bin/fetch-model.js'), { MODEL_MANIFEST: manifest, MODEL_DIR: dir });

    it('downloads a missing model file from the manifest source and verifies it; skips it when present', async () => {
      const { manifest, dir, entry } = setUp('good', '/weights/good.tflite');
      const first = fetchModel(manifest, dir);
      expect((await first.exited).code, first.stderr()).toBe(0);
      expect(readFileSync(entry).equals(weights)).toBe(true);
      expect(first.stdout()).toMatch(/verified/);
      const second = fetchModel(manifest, dir);
      expect((await second.exited).code).toBe(0);
      expect(second.stdout()).toMatch(/already there/);
    });

    it('refuses a download that does not match the manifest and leaves no file behind', async () => {
      const { manifest, dir, entry } = setUp('wrong', '/weights/wrong.tflite');
      const run = fetchModel(manifest, dir);
      expect((await run.exited).code).toBe(1);
      expect(run.stderr()).toMatch(/^fetch-model: /);
      expect(existsSync(entry)).toBe(false);
      expect(existsSync(`${entry}.part`)).toBe(false);
    });
  });
});
