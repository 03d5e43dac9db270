/**
 * The built server started the way a KServe ServingRuntime starts it (`--model_name --model_dir --http_port
 * --grpc_port`), on a plain model folder without a manifest, answering REST and gRPC; and a SIGTERM while gRPC
 * calls are in flight, none of which may be lost.
 */
import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, freePort, runNode, type ServerProcess } from '../support/built-server';
import { builtEntrypoint } from '../support/deploy-files';
import { grpcClient } from '../support/grpc-client';
import { parseResponses } from '../support/http-responses';
import { startImageServer, type ImageServer } from '../support/image-server';
import { FIXTURE_MODELS, foodPhotos } from '../support/shared-data';

const PLAIN_MODEL_DIR = FIXTURE_MODELS.food101Tflite.dir;
const photos = foodPhotos();
const labels = readFileSync(join(PLAIN_MODEL_DIR, 'labels.txt'), 'utf8').trim().split('\n');
const UNSET = { PORT: '', GRPC_PORT: '', MODEL_MANIFEST: '', MODEL_DIR: '', MODEL_STORE: '' };

describe('the built server under KServe flags', () => {
  let outDir: string;
  let removeBuild: () => void;
  const started: ServerProcess[] = [];
  const entry = () => join(outDir, builtEntrypoint().replace(/^dist\//, ''));

  beforeAll(async () => {
    ({ outDir, remove: removeBuild } = await buildApp());
  }, 240_000);

  afterAll(() => {
    for (const server of started) server.child.kill('SIGKILL');
    removeBuild?.();
  });

  it('stops at an invalid flag with a message naming it', async () => {
    const server = runNode(entry(), { ...UNSET, HOST: '127.0.0.1' }, [
      '--model_dir',
      PLAIN_MODEL_DIR,
      '--http_port=eighty',
    ]);
    started.push(server);
    expect((await server.exited).code).toBe(1);
    expect(server.stderr()).toMatch(/--http_port="eighty": a port is an integer from 0 to 65535/);
  });

  it('serves a plain model folder as --model_name over REST and gRPC, and drains gRPC calls on SIGTERM', async () => {
    const [httpPort, grpcPort] = [await freePort(), await freePort()];
    const server = runNode(
      entry(),
      { ...UNSET, NODE_ENV: 'production', HOST: '127.0.0.1', INFERENCE_WORKERS: '1' },
      [
        '--model_name=food101',
        `--model_dir=${PLAIN_MODEL_DIR}`,
        `--http_port=${httpPort}`,
        `--grpc_port=${grpcPort}`,
      ],
    );
    started.push(server);
    const ready = await server.waitForLine(/Ready on/);
    expect(ready).toMatch(/model food101@1 .* \d+ ms to ready/);
    expect(server.stdout()).toMatch(
      /has no manifest.json: serving tflite model mobilenet_v1_0.5_224_fft_int8.tflite as \\"food101\\" with a drafted manifest/,
    );
    expect(server.stdout()).toMatch(new RegExp(`gRPC on 127.0.0.1:${grpcPort}`));
    expect((await fetch(`http://127.0.0.1:${httpPort}/v2/models/food101/ready`)).status).toBe(200);

    const client = grpcClient(`127.0.0.1:${grpcPort}`);
    try {
      expect((await client.call('ModelReady', { name: 'food101' })).response).toEqual({ ready: true });
      expect((await client.health('Check', { service: '' })).response).toEqual({ status: 'SERVING' });
      const batch = photos.map((photo) => readFileSync(photo.path));
      const request = {
        model_name: 'food101',
        inputs: [
          { name: 'image', datatype: 'BYTES', shape: [batch.length], contents: { bytes_contents: batch } },
        ],
        outputs: [{ name: 'probabilities', parameters: { classification: { int64_param: 1 } } }],
      };
      // Ten calls of 13 photos on one worker: several seconds of work, most of it still queued at SIGTERM.
      const calls = Array.from({ length: 10 }, () => client.call('ModelInfer', request));
      // SIGTERM once the calls are certainly in the server: images are waiting in its inference queue.
      for (;;) {
        const metrics = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
        if (Number(/food_vision_inference_queue_depth\{[^}]*\} (\d+)/.exec(metrics)?.[1] ?? 0) > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      server.child.kill('SIGTERM');
      const answers = await Promise.all(calls);
      for (const { error, response } of answers) {
        expect(error).toBeUndefined();
        const top = response!.outputs[0].contents!.bytes_contents.map(
          (element) => element.toString().split(':')[2],
        );
        expect(top.filter((label, i) => label === photos[i].label).length).toBeGreaterThanOrEqual(12);
        expect(top.every((label) => labels.includes(label))).toBe(true);
      }
      expect(await server.exited, server.stdout() + server.stderr()).toEqual({ code: 0, signal: null });
      const shutdown = server
        .stdout()
        .split('\n')
        .find((line) => line.includes('SIGTERM received'));
      expect(Number(/and (\d+) gRPC call\(s\)/.exec(shutdown ?? '')?.[1])).toBeGreaterThan(0);
      const after = await client.call('ServerLive', {}, { deadlineMs: 1000 });
      expect([status.UNAVAILABLE, status.DEADLINE_EXCEEDED]).toContain(after.error?.code);
    } finally {
      client.close();
    }
  }, 120_000);

  it('on SIGTERM flips all five probes together, and answers the requests in flight on every protocol', async () => {
    // A photo the image server holds until released: the seed and /v1 requests are certainly in flight.
    const photo = readFileSync(photos[0].path);
    const held: ServerResponse[] = [];
    const images: ImageServer = await startImageServer({
      '/held.jpg': (_request, response) => void held.push(response),
    });
    const [httpPort, grpcPort] = [await freePort(), await freePort()];
    const server = runNode(
      entry(),
      {
        ...UNSET,
        NODE_ENV: 'production',
        HOST: '127.0.0.1',
        INFERENCE_WORKERS: '1',
        IMAGE_FETCH_ALLOW_HOSTS: '127.0.0.1',
      },
      [
        '--model_name=food101',
        `--model_dir=${PLAIN_MODEL_DIR}`,
        `--http_port=${httpPort}`,
        `--grpc_port=${grpcPort}`,
      ],
    );
    started.push(server);
    await server.waitForLine(/Ready on/);
    const client = grpcClient(`127.0.0.1:${grpcPort}`);
    const sockets: Array<{ socket: Socket; received: Buffer[]; closed: Promise<void> }> = [];
    /** A keep-alive connection busy with `request` (raw HTTP/1.1), for a probe to be pipelined behind it. */
    const busyConnection = (request: string) => {
      const socket = connect(httpPort, '127.0.0.1');
      const received: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => received.push(chunk));
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      socket.write(request);
      sockets.push({ socket, received, closed });
      return socket;
    };
    const post = (path: string, body = '') =>
      `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    try {
      const watch = client.watch('');
      const batch = photos.map((one) => readFileSync(one.path));
      const grpcCalls = Array.from({ length: 4 }, () =>
        client.call('ModelInfer', {
          model_name: 'food101',
          inputs: [
            { name: 'image', datatype: 'BYTES', shape: [batch.length], contents: { bytes_contents: batch } },
          ],
        }),
      );
      const heldUrl = images.url('/held.jpg');
      // The /v2 request is held by its client instead: all of its body but the last byte is sent before SIGTERM.
      const v2Request = post(
        '/v2/models/food101/infer',
        JSON.stringify({
          inputs: [{ name: 'image', datatype: 'BYTES', shape: [1], data: [photo.toString('base64')] }],
        }),
      );
      const probes = [
        busyConnection(post(`/net/image/prediction/?image_link=${encodeURIComponent(heldUrl)}`)),
        busyConnection(post('/v1/predictions', JSON.stringify({ url: heldUrl }))),
        busyConnection(v2Request.slice(0, -1)),
      ];
      // Every request is in the data plane (it counts a request's images when it takes it) before the signal.
      for (;;) {
        const metrics = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
        const count = (protocol: string) =>
          Number(
            new RegExp(`food_vision_inference_request_images_count\\{protocol="${protocol}"\\} (\\d+)`).exec(
              metrics,
            )?.[1] ?? 0,
          );
        if (held.length === 2 && count('grpc') >= 4 && count('seed') >= 1 && count('v1') >= 1) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(watch.statuses).toEqual(['SERVING']);

      server.child.kill('SIGTERM');
      await server.waitForLine(/SIGTERM received/);
      // The three HTTP probes, each on a connection still busy with its request.
      probes[0].write('GET /health/ready HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      probes[1].write('GET /v2/health/ready HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      probes[2].write(
        `${v2Request.slice(-1)}GET /v2/models/food101/ready HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`,
      );
      // gRPC: the Watch stream says NOT_SERVING and ends; a new probe call is not answered "ready".
      expect(await watch.ended).toBeUndefined();
      expect(watch.statuses).toEqual(['SERVING', 'NOT_SERVING']);
      for (const [method, request] of [
        ['ServerReady', {}],
        ['ModelReady', { name: 'food101' }],
      ] as const) {
        const { response, error } = await client.call(method, request, { deadlineMs: 2000 });
        if (error) expect([status.UNAVAILABLE, status.DEADLINE_EXCEEDED]).toContain(error.code);
        else expect(response).toEqual({ ready: false });
      }
      const check = await client.health('Check', { service: '' });
      if (check.error) expect([status.UNAVAILABLE, status.DEADLINE_EXCEEDED]).toContain(check.error.code);
      else expect(check.response).toEqual({ status: 'NOT_SERVING' });

      for (const response of held) {
        response.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': photo.length }).end(photo);
      }
      for (const { error } of await Promise.all(grpcCalls)) expect(error).toBeUndefined();
      const [seed, v1, v2] = await Promise.all(
        sockets.map(async ({ received, closed }) => {
          await closed;
          return parseResponses(Buffer.concat(received));
        }),
      );
      expect(seed[0].status).toBe(200);
      expect(JSON.parse(seed[0].body)).toHaveProperty('model-prediction');
      expect(v1[0].status).toBe(200);
      expect(v2[0].status).toBe(200);
      expect(seed[1].status).toBe(503);
      expect(JSON.parse(seed[1].body)).toMatchObject({ code: 'shutting_down' });
      for (const probe of [v1[1], v2[1]]) {
        expect(probe.status).toBe(400);
        expect(JSON.parse(probe.body)).toEqual({ error: expect.stringMatching(/shutting down \(SIGTERM\)/) });
      }
      expect(await server.exited, server.stdout() + server.stderr()).toEqual({ code: 0, signal: null });
    } finally {
      client.close();
      for (const { socket } of sockets) socket.destroy();
      await images.close();
    }
  }, 120_000);
});
