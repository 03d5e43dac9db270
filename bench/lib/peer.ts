import { execFile, spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { SHARED_DIR } from '../../test/support/shared-data';
import { cpuSeconds, freePort } from './server';

/** The Python peer of ../shared/peers/fastapi-pytorch: FastAPI + gunicorn (2 workers) + Pillow + PyTorch/XNNPACK. */
export const PEER_DIR = join(SHARED_DIR, 'peers', 'fastapi-pytorch');
const PYTHON = '/usr/bin/python3';
export const PEER_PACKAGES =
  'apt-get update && apt-get install -y python3-fastapi python3-uvicorn python3-multipart python3-pil python3-numpy python3-torch python3-torchvision python3-h5py gunicorn hey';

/** Why the peer cannot run here (with how to fix it), or undefined when it can. */
export function peerUnavailable(): string | undefined {
  if (!existsSync(join(PEER_DIR, 'peer_server.py'))) return `the peer is not in ${PEER_DIR}`;
  const imports = spawnSync(PYTHON, ['-c', 'import fastapi, uvicorn, multipart, PIL, numpy, torch, h5py'], {
    encoding: 'utf8',
  });
  if (imports.status !== 0) {
    return `its Python packages are missing (${imports.stderr.trim().split('\n').pop() ?? 'import failed'}); install them with: ${PEER_PACKAGES}`;
  }
  if (spawnSync('gunicorn', ['--version']).status !== 0) return `gunicorn is missing; ${PEER_PACKAGES}`;
  return undefined;
}

export interface RunningPeer {
  baseUrl: string;
  /** CPU seconds of gunicorn's master and its worker processes. */
  cpu(): number;
  stop(): Promise<void>;
}

/** Converts the `.h5` to TorchScript once (about a minute), outside shared/ (read-only); reused afterwards. */
export async function peerModel(log: (line: string) => void): Promise<string> {
  const dir = process.env.PEER_MODEL_DIR ?? join(tmpdir(), 'food-vision-peer');
  const model = join(dir, 'model.pt');
  if (existsSync(model)) return model;
  mkdirSync(dir, { recursive: true });
  log(`converting the .h5 for the peer into ${model} (once, about a minute)…`);
  await promisify(execFile)(PYTHON, [join(PEER_DIR, 'keras_h5_to_torch.py'), '--out', model], {
    cwd: PEER_DIR,
    timeout: 600_000,
  });
  return model;
}

function childPids(pid: number): number[] {
  const out = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).stdout;
  return out.split('\n').filter(Boolean).map(Number);
}

/** Starts the peer as its README says (2 processes × 1 torch thread) on 127.0.0.1 and waits for /health/live. */
export async function startPeer(model: string, logFile: string): Promise<RunningPeer> {
  const port = await freePort();
  const log = openSync(logFile, 'w');
  const child = spawn(
    'gunicorn',
    [
      '-k',
      'uvicorn.workers.UvicornWorker',
      '-w',
      '2',
      '--chdir',
      PEER_DIR,
      '--bind',
      `127.0.0.1:${port}`,
      'peer_server:app',
    ],
    { env: { ...process.env, PEER_MODEL: model }, stdio: ['ignore', log, log] },
  );
  closeSync(log);
  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline && child.exitCode === null) {
    try {
      // Both workers load their own model: wait until two processes exist and one answers.
      if (childPids(child.pid!).length >= 2 && (await fetch(`${baseUrl}/health/live`)).ok) break;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  if (child.exitCode !== null || Date.now() >= deadline) {
    child.kill('SIGKILL');
    throw new Error(`The peer did not start; see ${logFile}.`);
  }
  await sleep(3_000); // the second worker finishes loading and warming its model
  return {
    baseUrl,
    cpu: () =>
      [child.pid!, ...childPids(child.pid!)].reduce((sum, pid) => {
        try {
          return sum + cpuSeconds(pid);
        } catch {
          return sum;
        }
      }, 0),
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(killer);
    },
  };
}
