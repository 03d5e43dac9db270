import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(__dirname, '..', '..');
const CONFIG = join(ROOT, '.dependency-cruiser.cjs');
const DEPCRUISE = join(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');

function cruise(cwd: string, paths: string[]) {
  return spawnSync(process.execPath, [DEPCRUISE, '--config', CONFIG, '--output-type', 'err', ...paths], {
    cwd,
    encoding: 'utf8',
    timeout: 120_000,
  });
}

describe('the layout in docs/architecture.md', () => {
  it('holds: no import past a library’s index.ts, upward between layers, across front-ends, or in a cycle', () => {
    const run = cruise(ROOT, ['apps', 'libs', 'scripts', 'bench']);
    expect(run.stdout + run.stderr).toMatch(/no dependency violations found/);
    expect(run.status).toBe(0);
  }, 120_000);

  it('is enforced: each kind of broken boundary is reported by its rule', () => {
    const dir = mkdtempSync(join(tmpdir(), 'boundaries-'));
    const files: Record<string, string> = {
      'tsconfig.json': '{ "compilerOptions": { "module": "nodenext" } }',
      'libs/inference/src/index.ts': "export * from './workers/pool';",
      'libs/inference/src/workers/pool.ts': 'export const pool = 1;',
      'libs/inference/src/manifest/reader.ts':
        "import { pool } from '../workers/pool';\nexport const r = pool;",
      'libs/imaging/src/decoder.ts':
        "import { pool } from '../../inference/src/index';\nexport const d = pool;",
      'libs/imaging/src/index.ts': "export * from './decoder';",
      'libs/image-fetch/src/intake.ts': "import { d } from '../../imaging/src/decoder';\nexport const i = d;",
      'apps/api/src/grpc/status.ts': 'export const s = 1;',
      'apps/api/src/seed/seed.controller.ts': "import { s } from '../grpc/status';\nexport const c = s;",
      'apps/api/src/models/models.controller.ts':
        "import { pool } from '../../../../libs/inference/src/workers/pool';\nexport const m = pool;",
      'apps/api/src/health/health.controller.ts':
        "import { pool } from '../../../../libs/inference/src/index';\nexport const h = pool;",
      'apps/api/src/demo/demo.controller.ts':
        "import type { pool } from '../../../../libs/inference/src/index';\nexport const d: typeof pool = 1;",
      'apps/api/src/common/a.ts': "import { b } from './b';\nexport const a = 1 + b;",
      'apps/api/src/common/b.ts': "import { a } from './a';\nexport const b = () => a;",
    };
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    const run = cruise(dir, ['apps', 'libs']);
    expect(run.status).not.toBe(0);
    // The report wraps long lines; one space between words is enough to match a violation.
    const report = (run.stdout + run.stderr).replace(/\s+/g, ' ');
    for (const violation of [
      'inference-manifest-not-upward: libs/inference/src/manifest/reader.ts → libs/inference/src/workers/pool.ts',
      'lib-imaging-imports: libs/imaging/src/decoder.ts → libs/inference/src/index.ts',
      'through-the-other-index: libs/image-fetch/src/intake.ts → libs/imaging/src/decoder.ts',
      'front-end-seed-alone: apps/api/src/seed/seed.controller.ts → apps/api/src/grpc/status.ts',
      'through-the-index: apps/api/src/models/models.controller.ts → libs/inference/src/workers/pool.ts',
      'no-circular: apps/api/src/common/a.ts → apps/api/src/common/b.ts',
      'front-ends-through-the-data-plane: apps/api/src/health/health.controller.ts → libs/inference/src/index.ts',
      'front-ends-through-the-data-plane: apps/api/src/models/models.controller.ts → libs/inference/src/workers/pool.ts',
    ]) {
      expect(report).toContain(violation);
    }
    // A type-only import is vocabulary, not a call: the rule lets it through.
    expect(report).not.toContain('apps/api/src/demo/demo.controller.ts');
  }, 120_000);
});
