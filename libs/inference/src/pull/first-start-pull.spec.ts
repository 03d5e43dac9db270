import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testManifest } from '../../../../test/support/test-manifest';
import { pullMissingModel } from './first-start-pull';

const MODEL = Buffer.from('model bytes '.repeat(1000));
let server: Server;
let base: string;
let hits = 0;
const dirs: string[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    hits++;
    if (request.url === '/model.bin') response.writeHead(200, { 'content-length': MODEL.length }).end(MODEL);
    else response.writeHead(404).end();
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

afterAll(async () => {
  await new Promise((done) => server.close(done));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function manifestIn(url: string, hash = createHash('sha256').update(MODEL).digest('hex')): string {
  const dir = mkdtempSync(join(tmpdir(), 'first-start-'));
  dirs.push(dir);
  const path = join(dir, 'manifest.json');
  writeFileSync(
    path,
    JSON.stringify(
      testManifest({
        name: 'default-model',
        entry: 'model.bin',
        files: [{ path: 'model.bin', sha256: hash }],
        labels: ['a', 'b'],
        input: { height: 8, width: 8, dtype: 'uint8', value_range: [0, 255] },
        source: { url },
      }),
    ),
  );
  return path;
}

const quiet = { log: () => undefined };

describe('pullMissingModel (first start without MODEL_DIR)', () => {
  it('downloads the missing pinned files into the manifest folder, then does nothing once they are there', async () => {
    const manifest = manifestIn(`${base}/model.bin`);
    await pullMissingModel(manifest, quiet);
    expect(readFileSync(join(manifest, '..', 'model.bin')).equals(MODEL)).toBe(true);
    const before = hits;
    await pullMissingModel(manifest, quiet);
    expect(hits).toBe(before);
  });

  it('says in one sentence what to set when the download fails', async () => {
    const manifest = manifestIn(`${base}/gone.bin`);
    await expect(pullMissingModel(manifest, quiet)).rejects.toThrow(
      /^Model "default-model" is not in .* and could not be downloaded \(.*answered HTTP 404.*\): run "npm run model:pull" where the network allows, or set MODEL_DIR to a folder that holds model\.bin\.$/,
    );
    expect(existsSync(join(manifest, '..', 'model.bin'))).toBe(false);
  });

  it('refuses a download that does not match the pinned hash', async () => {
    const manifest = manifestIn(`${base}/model.bin`, 'f'.repeat(64));
    await expect(pullMissingModel(manifest, quiet)).rejects.toThrow(
      /is not the file the manifest pins.*set MODEL_DIR/,
    );
    expect(existsSync(join(manifest, '..', 'model.bin'))).toBe(false);
  });
});
