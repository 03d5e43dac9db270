import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';

function nearestTsconfig(from: string): string | undefined {
  for (let dir = dirname(from); ; dir = dirname(dir)) {
    const candidate = join(dir, 'tsconfig.json');
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * Starts a worker thread on `file`. The built app (`nest build`, CommonJS) runs the compiled `.js` directly;
 * from TypeScript sources (tests, `tsx` scripts) the worker preloads tsx, a dev dependency, with the
 * project's tsconfig so that `@app/*` imports resolve. Production never loads tsx.
 */
export function startWorker(file: string, workerData: unknown): Worker {
  if (!file.endsWith('.ts')) return new Worker(file, { workerData });
  const tsx = createRequire(__filename).resolve('tsx/cjs');
  const tsconfig = nearestTsconfig(file);
  return new Worker(file, {
    // Not the parent's own flags: under the tsx CLI they carry ESM hooks a worker cannot use.
    execArgv: ['--require', tsx],
    workerData,
    env: tsconfig ? { ...process.env, TSX_TSCONFIG_PATH: tsconfig } : process.env,
  });
}
