import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port';

/** Debian's redis-server (.ci/run installs it). */
export const HAS_REDIS = spawnSync('redis-server', ['--version']).status === 0;
/** Under CI=true a missing redis-server fails its tests instead of skipping them. */
export const SKIP_REDIS_TESTS = !HAS_REDIS && process.env.CI !== 'true';

export interface RunningRedis {
  url: string;
  port: number;
  /** Kills Redis with SIGKILL and starts it again on the same port and data folder (the AOF brings it back). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A real Redis on 127.0.0.1, on a free port, with a temporary data folder and the append-only file on, fsynced at
 * every write (`appendfsync always`): a SIGKILL loses nothing it acknowledged. No RDB snapshots.
 */
export async function startRedis(): Promise<RunningRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'redis-'));
  let child: ChildProcess = await launch(port, dir);
  const stopChild = async (signal: NodeJS.Signals): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    restart: async () => {
      await stopChild('SIGKILL');
      child = await launch(port, dir);
    },
    stop: async () => {
      await stopChild('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function launch(port: number, dir: string): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    [
      '--bind',
      '127.0.0.1',
      '--port',
      String(port),
      '--dir',
      dir,
      '--appendonly',
      'yes',
      '--appendfsync',
      'always',
      '--save',
      '',
      '--protected-mode',
      'yes',
      '--daemonize',
      'no',
      '--loglevel',
      'warning',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${output}`)), 20_000);
    const check = async (): Promise<void> => {
      // Ready once it answers PING.
      for (;;) {
        if (child.exitCode !== null) {
          clearTimeout(timer);
          return reject(new Error(`redis-server exited:\n${output}`));
        }
        if (
          spawnSync('redis-cli', ['-p', String(port), 'ping'])
            .stdout?.toString()
            .trim() === 'PONG'
        ) {
          clearTimeout(timer);
          return resolve(child);
        }
        await new Promise((wait) => setTimeout(wait, 50));
      }
    };
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    void check();
  });
}
