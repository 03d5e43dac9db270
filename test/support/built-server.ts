import { type ChildProcessWithoutNullStreams, execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';
import { ROOT } from './deploy-files';
export { freePort } from './free-port';

/**
 * Compiles the app the way `npm run build` does (`nest build api`, same tsconfig), into a private folder under
 * node_modules/.cache so the tests never delete or race with dist/. Returns the output folder, the equivalent of dist/.
 */
export async function buildApp(): Promise<{ outDir: string; remove(): void }> {
  const cache = join(ROOT, 'node_modules', '.cache', 'food-vision-tests');
  mkdirSync(cache, { recursive: true });
  const dir = mkdtempSync(join(cache, 'build-'));
  const tsconfig = join(dir, 'tsconfig.json');
  writeFileSync(
    tsconfig,
    JSON.stringify({
      extends: relative(dir, join(ROOT, 'apps', 'api', 'tsconfig.app.json')),
      compilerOptions: { outDir: './dist' },
    }),
  );
  const nest = join(ROOT, 'node_modules', '@nestjs', 'cli', 'bin', 'nest.js');
  const remove = () => rmSync(dir, { recursive: true, force: true });
  try {
    await promisify(execFile)(process.execPath, [nest, 'build', 'api', '-p', relative(ROOT, tsconfig)], {
      cwd: ROOT,
      timeout: 180_000,
    });
  } catch (error) {
    remove();
    throw error;
  }
  return { outDir: join(dir, 'dist'), remove };
}

export interface ServerProcess {
  child: ChildProcessWithoutNullStreams;
  /** Everything written to stdout so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves with the first stdout line matching `pattern` (waits for it). */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs `node <script> [args]` from the repository root with `env` added, capturing its output. */
export function runNode(script: string, env: Record<string, string>, args: string[] = []): ServerProcess {
  // Each process its own jobs database, unless the test names one: two servers on one SQLite file would share work.
  const jobsDir = env.JOBS_DIR === undefined ? mkdtempSync(join(tmpdir(), 'built-server-jobs-')) : undefined;
  const child = spawn(process.execPath, [script, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...(jobsDir ? { JOBS_DIR: jobsDir } : {}), ...env },
  });
  if (jobsDir) child.once('exit', () => rmSync(jobsDir, { recursive: true, force: true }));
  let out = '';
  let err = '';
  const listeners: Array<() => void> = [];
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
    listeners.forEach((listener) => listener());
  });
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const waitForLine = (pattern: RegExp, timeoutMs = 60_000) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const line = out.split('\n').find((candidate) => pattern.test(candidate));
        if (line === undefined) return false;
        clearTimeout(timer);
        resolve(line);
        return true;
      };
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `No line matching ${pattern} within ${timeoutMs} ms.\nstdout:\n${out}\nstderr:\n${err}`,
            ),
          ),
        timeoutMs,
      );
      if (!check()) listeners.push(() => void check());
      void exited.then(() => {
        if (!check()) {
          clearTimeout(timer);
          reject(new Error(`Exited before a line matching ${pattern}.\nstdout:\n${out}\nstderr:\n${err}`));
        }
      });
    });
  return { child, stdout: () => out, stderr: () => err, waitForLine, exited };
}
