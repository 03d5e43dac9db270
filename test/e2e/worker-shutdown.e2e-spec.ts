import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const SCRIPT = join(__dirname, '..', 'fixtures', 'scripts', 'start-models-that-do-not-fit.ts');
const ROUNDS = 8;

describe('ending inference workers while they load a real model', () => {
  // A worker terminated inside an onnxruntime-node or sharp call aborted the whole process
  // ("terminate called after throwing an instance of 'Napi::Error'"); in a child process so an abort shows.
  it(`keeps the process alive when a model is refused while its other worker still loads (${ROUNDS} rounds)`, () => {
    const tsx = createRequire(__filename).resolve('tsx/cjs');
    const run = spawnSync(process.execPath, ['--require', tsx, SCRIPT, String(ROUNDS)], {
      encoding: 'utf8',
      env: { ...process.env, TSX_TSCONFIG_PATH: join(__dirname, '..', '..', 'tsconfig.json') },
      timeout: 240_000,
    });
    expect(run.stderr).not.toMatch(/terminate called|Napi::Error|Aborted/);
    expect({ status: run.status, signal: run.signal }).toEqual({ status: 0, signal: null });
    const rounds = run.stdout.split('\n').filter((line) => line.startsWith('round '));
    expect(rounds).toHaveLength(ROUNDS);
    for (const line of rounds)
      expect(line).toMatch(/refused: .*takes input \[-1, 224, 224, 3\] but its manifest says 192×192×3/);
  }, 300_000);
});
