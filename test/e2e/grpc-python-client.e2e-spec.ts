/**
 * The gRPC front-end called by an independent client: Python grpcio (Debian's python3-grpcio) with messages that
 * protoc generated from the official .proto. Under CI=true the tools must be there (.ci/run installs them).
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GrpcFrontEnd } from '../../apps/api/src/grpc/grpc-front-end';
import { ROOT } from '../support/deploy-files';
import { FIXTURE_MODELS, foodPhotos } from '../support/shared-data';
import { startTestApp, type RunningApp } from '../support/test-app';

const PYTHON = '/usr/bin/python3';
const hasTools =
  spawnSync('protoc', ['--version']).status === 0 &&
  spawnSync(PYTHON, ['-c', 'import grpc, google.protobuf']).status === 0;
const photos = foodPhotos();
const labels = readFileSync(join(FIXTURE_MODELS.food101Tflite.dir, 'labels.txt'), 'utf8').trim().split('\n');

describe('an independent Python grpcio client', () => {
  it('has protoc and python3-grpcio (apt-get install protobuf-compiler python3-grpcio python3-protobuf)', () => {
    if (process.env.CI === 'true') expect(hasTools).toBe(true);
  });

  // Under CI=true these run, and fail, without the tools: a missing tool is not a skip there.
  describe.skipIf(!hasTools && process.env.CI !== 'true')('against the server', () => {
    let running: RunningApp;
    let address: string;
    let generated: string;

    beforeAll(async () => {
      generated = mkdtempSync(join(tmpdir(), 'oip-python-'));
      execFileSync('protoc', [
        `--proto_path=${join(ROOT, 'apps/api/src/grpc/proto')}`,
        `--python_out=${generated}`,
        'open_inference_grpc.proto',
      ]);
      running = await startTestApp(FIXTURE_MODELS.food101Tflite);
      address = `127.0.0.1:${await running.app.get(GrpcFrontEnd).start(0, '127.0.0.1')}`;
    });

    afterAll(async () => {
      await running?.close();
      rmSync(generated, { recursive: true, force: true });
    });

    it('gets health, metadata, and 12 of 13 photos right with typed and raw contents', async () => {
      // Asynchronously: the server runs in this process.
      const { stdout } = await promisify(execFile)(
        PYTHON,
        [
          join(ROOT, 'test/python/oip_grpc_client.py'),
          generated,
          address,
          'food101-mobilenet-v1-int8',
          ...photos.map((photo) => photo.path),
        ],
        { timeout: 120_000 },
      );
      const answer = JSON.parse(stdout) as {
        live: boolean;
        ready: boolean;
        platform: string;
        outputs: unknown[];
        typed_top: string[];
        raw_top_index: number[];
        raw_shape: number[];
        missing_model: string;
      };
      expect(answer).toMatchObject({
        live: true,
        ready: true,
        platform: 'tensorflow_tflite',
        outputs: [['probabilities', 'FP32', [-1, 101]]],
        raw_shape: [photos.length, 101],
        missing_model: 'NOT_FOUND',
      });
      const right = answer.typed_top.filter((label, i) => label === photos[i].label).length;
      expect(right).toBeGreaterThanOrEqual(12);
      expect(answer.raw_top_index.map((index) => labels[index])).toEqual(answer.typed_top);
    });
  });
});
