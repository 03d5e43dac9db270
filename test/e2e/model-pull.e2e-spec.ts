import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { pullModel } from '../../libs/inference/src/pull/model-puller';
import { startImageServer, type ImageServer } from '../support/image-server';
import type { ModelManifest } from '@app/inference';
import { testManifest } from '../support/test-manifest';

const MODEL = randomBytes(300_000);
const LABELS = Buffer.from('pizza\nsushi\n');
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const gitBlob = (bytes: Buffer) =>
  createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');

let server: ImageServer;
let requests: string[] = [];
let work: string;

function send(bytes: Buffer) {
  return (request: IncomingMessage, response: ServerResponse) => {
    requests.push(request.url ?? '');
    response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes.length });
    // In chunks, so progress has something to report.
    let offset = 0;
    const next = () => {
      if (offset >= bytes.length) return response.end();
      response.write(bytes.subarray(offset, offset + 64 * 1024), next);
      offset += 64 * 1024;
    };
    next();
  };
}

function sendHalfThenHangUp(bytes: Buffer) {
  return (request: IncomingMessage, response: ServerResponse) => {
    requests.push(request.url ?? '');
    response.writeHead(200, { 'content-length': bytes.length });
    response.write(bytes.subarray(0, bytes.length / 2), () => response.socket?.destroy());
  };
}

beforeAll(async () => {
  server = await startImageServer({
    '/model.bin': send(MODEL),
    '/labels.txt': send(LABELS),
    '/other.bin': send(randomBytes(MODEL.length)),
    '/cut.bin': sendHalfThenHangUp(MODEL),
  });
  work = mkdtempSync(join(tmpdir(), 'model-pull-'));
});

afterAll(async () => {
  await server?.close();
  rmSync(work, { recursive: true, force: true });
});

beforeEach(() => {
  requests = [];
});

let counter = 0;
function manifest(
  files: ModelManifest['files'],
  sourcePath = '/model.bin',
): { manifestPath: string; dir: string } {
  const dir = join(work, `case-${++counter}`);
  const manifestDir = join(work, `manifest-${counter}`);
  mkdirp(manifestDir);
  const manifestPath = join(manifestDir, 'manifest.json');
  writeFileSync(
    manifestPath,
    JSON.stringify(
      testManifest({
        name: 'pulled',
        entry: 'model.bin',
        files,
        labels_file: 'labels.txt',
        input: { height: 8, width: 8, dtype: 'uint8', value_range: [0, 255] },
        source: { url: server.url(sourcePath) },
      }),
    ),
  );
  return { manifestPath, dir };
}

function mkdirp(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
}

const pinnedLabels = { path: 'labels.txt', size: LABELS.length, sha256: sha256(LABELS) };
const pinnedModel = { path: 'model.bin', size: MODEL.length, sha256: sha256(MODEL) };

describe('pullModel against a local HTTP server', () => {
  it('downloads, verifies and stores every file, and keeps them on the next pull', async () => {
    const { manifestPath, dir } = manifest([pinnedModel, pinnedLabels]);
    const progress: number[] = [];
    const result = await pullModel({
      manifestPath,
      modelDir: dir,
      onProgress: (_file, state) => progress.push(state.received),
    });
    expect(readFileSync(join(dir, 'model.bin')).equals(MODEL)).toBe(true);
    expect(readFileSync(join(dir, 'labels.txt')).equals(LABELS)).toBe(true);
    expect(result.files.map((file) => [file.path, file.downloaded, file.verified])).toEqual([
      ['model.bin', true, true],
      ['labels.txt', true, true],
    ]);
    // labels.txt had no URL of its own: it came from beside source.url.
    expect(requests).toEqual(['/model.bin', '/labels.txt']);
    expect(progress.at(-1)).toBe(LABELS.length);
    expect(progress).toContain(MODEL.length);
    expect(readdirSync(dir).sort()).toEqual(['labels.txt', 'model.bin']);

    requests = [];
    const again = await pullModel({ manifestPath, modelDir: dir });
    expect(again.files.every((file) => !file.downloaded)).toBe(true);
    expect(requests).toEqual([]);
  });

  it('accepts a file pinned by its git blob id only (as the seed model is)', async () => {
    const { manifestPath, dir } = manifest([
      { path: 'model.bin', git_blob_sha1: gitBlob(MODEL) },
      pinnedLabels,
    ]);
    const result = await pullModel({ manifestPath, modelDir: dir });
    expect(result.files[0]).toMatchObject({ path: 'model.bin', downloaded: true, verified: true });
  });

  it('refuses a download whose sha256 does not match, and stores nothing', async () => {
    const { manifestPath, dir } = manifest([{ ...pinnedModel, url: server.url('/other.bin') }, pinnedLabels]);
    await expect(pullModel({ manifestPath, modelDir: dir })).rejects.toThrow(
      /is not the file the manifest pins for model\.bin \(sha256 [0-9a-f]{64} instead of [0-9a-f]{64}\); nothing was stored/,
    );
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses a download whose git blob id does not match', async () => {
    const { manifestPath, dir } = manifest([
      { path: 'model.bin', git_blob_sha1: 'a'.repeat(40) },
      pinnedLabels,
    ]);
    await expect(pullModel({ manifestPath, modelDir: dir })).rejects.toThrow(
      /git blob id [0-9a-f]{40} instead of a{40}/,
    );
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses a truncated download (connection cut before Content-Length), and stores nothing', async () => {
    const { manifestPath, dir } = manifest(
      [{ path: 'model.bin', git_blob_sha1: gitBlob(MODEL) }, pinnedLabels],
      '/cut.bin',
    );
    await expect(pullModel({ manifestPath, modelDir: dir })).rejects.toThrow(/cut\.bin.*Nothing was stored/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses a file with no hash before downloading anything, unless told --trust-unverified', async () => {
    const { manifestPath, dir } = manifest([{ path: 'model.bin' }, pinnedLabels]);
    await expect(pullModel({ manifestPath, modelDir: dir })).rejects.toThrow(
      /pins no sha256 for model\.bin, so a download cannot be verified: add the sha256 to .*manifest\.json, or pass --trust-unverified/,
    );
    expect(requests).toEqual([]);
    const result = await pullModel({ manifestPath, modelDir: dir, trustUnverified: true });
    expect(result.files[0]).toMatchObject({ path: 'model.bin', downloaded: true, verified: false });
    expect(result.files[0].digest.sha256).toBe(sha256(MODEL));
  });

  it('replaces a damaged file that is already in place', async () => {
    const { manifestPath, dir } = manifest([pinnedModel, pinnedLabels]);
    mkdirp(dir);
    writeFileSync(join(dir, 'model.bin'), MODEL.subarray(0, 1000));
    await pullModel({ manifestPath, modelDir: dir });
    expect(readFileSync(join(dir, 'model.bin')).equals(MODEL)).toBe(true);
  });
});

describe('npm run model:pull', () => {
  it('pulls a manifest, printing progress lines on stderr when not on a terminal', async () => {
    const { manifestPath, dir } = manifest([pinnedModel, pinnedLabels]);
    const root = resolve(__dirname, '..', '..');
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      [
        join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'),
        join(root, 'scripts', 'model-pull.ts'),
        manifestPath,
        '--dir',
        dir,
      ],
      { cwd: root, env: { ...process.env, MODEL_DIR: '' } },
    );
    expect(stderr).toMatch(/model\.bin: 100% \(0\.3 MB of 0\.3 MB\)/);
    expect(stdout).toMatch(
      /model\.bin: downloaded from http:\/\/127\.0\.0\.1:\d+\/model\.bin, 300000 bytes, sha256 [0-9a-f]{64}/,
    );
    expect(stdout).toMatch(/pulled@1 is in /);
    expect(existsSync(join(dir, 'model.bin'))).toBe(true);
  });

  it('exits 1 with one sentence when the pull is refused', async () => {
    const { manifestPath, dir } = manifest([{ path: 'model.bin' }, pinnedLabels]);
    const root = resolve(__dirname, '..', '..');
    const run = promisify(execFile)(
      process.execPath,
      [
        join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'),
        join(root, 'scripts', 'model-pull.ts'),
        manifestPath,
        '--dir',
        dir,
      ],
      { cwd: root },
    );
    await expect(run).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/model:pull: Model "pulled" pins no sha256/),
    });
  });
});
