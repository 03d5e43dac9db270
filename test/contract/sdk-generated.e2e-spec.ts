import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = join(__dirname, '..', '..');
const COMMITTED = join(ROOT, 'libs', 'sdk', 'src', 'generated');
const OPENAPI_TS = join(ROOT, 'node_modules', '@hey-api', 'openapi-ts', 'bin', 'run.js');

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort();
}

describe('the committed SDK (libs/sdk/src/generated)', () => {
  const fresh = mkdtempSync(join(tmpdir(), 'food-vision-sdk-'));

  afterAll(() => rmSync(fresh, { recursive: true, force: true }));

  it('is exactly what `npm run sdk` generates from openapi/openapi.json (run it after `npm run openapi`)', () => {
    execFileSync(process.execPath, [OPENAPI_TS, '-s', '-f', 'libs/sdk/openapi-ts.config.mjs', '-o', fresh], {
      cwd: ROOT,
      stdio: 'pipe',
    });
    const generated = files(fresh);
    expect(generated).toContain('sdk.gen.ts');
    expect(files(COMMITTED)).toEqual(generated);
    for (const file of generated) {
      expect(readFileSync(join(COMMITTED, file), 'utf8'), file).toBe(readFileSync(join(fresh, file), 'utf8'));
    }
  });
});
