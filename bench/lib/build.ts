import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';

const ROOT = join(__dirname, '..', '..');

/**
 * Compiles the app as `npm run build` does (`nest build api`, the app's tsconfig) into a private folder, so the
 * bench neither deletes dist/ nor races with it. Test files are left out, whatever folder they sit in.
 */
export interface BuiltApp {
  /** The server's main.js. */
  entry: string;
  /** The compiled inference library's folder (dist/libs/inference/src), the code the server's workers run. */
  inferenceLibrary: string;
  remove(): void;
}

/** `source`: another checkout of the project to build (a git worktree of an older commit); this one by default. */
export async function buildApp(source: string = ROOT): Promise<BuiltApp> {
  // Inside the checkout being built (nest refuses an output folder outside its project), in a real folder: an
  // older commit's worktree borrows node_modules through a symlink, which nest's asset copy resolves.
  const cache =
    source === ROOT
      ? join(ROOT, 'node_modules', '.cache', 'food-vision-bench')
      : join(source, '.bench-build');
  mkdirSync(cache, { recursive: true });
  const dir = mkdtempSync(join(cache, 'build-'));
  const root = relative(dir, source);
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      extends: relative(dir, join(source, 'apps', 'api', 'tsconfig.app.json')),
      compilerOptions: { outDir: './dist' },
      exclude: [`${root}/node_modules`, `${root}/**/*.spec.ts`, `${root}/**/*.e2e-spec.ts`],
    }),
  );
  const nest = join(ROOT, 'node_modules', '@nestjs', 'cli', 'bin', 'nest.js');
  await promisify(execFile)(
    process.execPath,
    [nest, 'build', 'api', '-p', relative(source, join(dir, 'tsconfig.json'))],
    {
      cwd: source,
      timeout: 300_000,
    },
  );
  return {
    entry: join(dir, 'dist', 'apps', 'api', 'src', 'main.js'),
    inferenceLibrary: join(dir, 'dist', 'libs', 'inference', 'src'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
