/**
 * The built server started the way a KServe ServingRuntime starts it (`--model_name --model_dir --http_port
 * --grpc_port`), on a plain model folder without a manifest, answering REST and gRPC; and a SIGTERM while gRPC
 * calls are in flight, none of which may be lost.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, freePort, runNode, type ServerProcess } from '../support/built-server';
import { builtEntrypoint } from '../support/deploy-files';
import { grpcClient } from '../support/grpc-client';
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
});
