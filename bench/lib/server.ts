import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../../test/support/free-port';

export { freePort };

export interface RunningServer {
  baseUrl: string;
  pid: number;
  /** Resident memory of the whole process (main thread and workers), MiB. */
  rssMiB(): number;
  /** CPU seconds used so far by the whole process, and by its main (event loop) thread. */
  cpu(): { process: number; mainThread: number };
  stop(): Promise<void>;
}

/** CPU seconds (user + system) of a process, or of one of its threads (`tid`), from /proc. */
export function cpuSeconds(pid: number, tid?: number): number {
  const stat = readFileSync(
    tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`,
    'utf8',
  );
  // Fields after the command name (which may contain spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return ticks / 100;
}

export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) / 1024;
}

/** Waits for `url` to answer 200 (the model loaded and warm), or fails after `timeoutMs`. */
async function waitForOk(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`The server exited with code ${child.exitCode} before it was ready.`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms.`);
}

/**
 * Starts `node <entry>` (the built app, or another server script) on 127.0.0.1 with `env`, its output going to
 * `logFile`, and resolves once `readyPath` answers 200.
 */
export async function startServer(options: {
  entry: string;
  execArgv?: string[];
  env: Record<string, string>;
  logFile: string;
  readyPath?: string;
}): Promise<RunningServer> {
  const port = await freePort();
  // Straight into a file: a pipe read by this (busy) process would slow the server's synchronous log writes.
  const log = openSync(options.logFile, 'w');
  // Each server its own jobs database: servers run side by side and must not share one SQLite file.
  const jobsDir = mkdtempSync(join(tmpdir(), 'bench-jobs-'));
  const child = spawn(process.execPath, [...(options.execArgv ?? []), options.entry], {
    env: { ...process.env, JOBS_DIR: jobsDir, ...options.env, HOST: '127.0.0.1', PORT: String(port) },
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  child.once('exit', () => rmSync(jobsDir, { recursive: true, force: true }));
  const baseUrl = `http://127.0.0.1:${port}`;
  try {
    await waitForOk(`${baseUrl}${options.readyPath ?? '/health/ready'}`, child, 120_000);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`${(error as Error).message} See ${options.logFile}.`, { cause: error });
  }
  return {
    baseUrl,
    pid: child.pid!,
    rssMiB: () => rssMiB(child.pid!),
    cpu: () => ({ process: cpuSeconds(child.pid!), mainThread: cpuSeconds(child.pid!, child.pid) }),
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(killer);
    },
  };
}
