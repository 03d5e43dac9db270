import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { setPriority } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { ClientJob } from './client-process';
import type { LoadResult } from './load';

/**
 * Nice value of the load generator: on this one machine it takes only the CPU the server leaves, as a load
 * generator on another machine would take none of it. Probes keep normal priority, like kubelet.
 */
export const LOAD_GENERATOR_NICE = 19;

export interface Client {
  job: ClientJob;
  nice?: number;
}

interface Started {
  go(): void;
  result: Promise<LoadResult>;
}

function startClient({ job, nice = 0 }: Client): Promise<Started> {
  const tsx = createRequire(__filename).resolve('tsx/cjs');
  const child = spawn(
    process.execPath,
    ['--require', tsx, join(__dirname, 'client-process.ts'), JSON.stringify(job)],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  if (nice !== 0) setPriority(child.pid!, nice);
  const lines = createInterface({ input: child.stdout });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  let onReady: () => void;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  const result = new Promise<LoadResult>((resolve, reject) => {
    lines.on('line', (line) => {
      if (line === 'ready') onReady();
      else if (line.startsWith('{')) resolve(JSON.parse(line) as LoadResult);
    });
    void exited.then((code) =>
      reject(new Error(`The ${job.kind} client exited with code ${code} without a result.`)),
    );
  });
  return Promise.race([
    ready.then(() => ({ go: () => child.stdin.end('go\n'), result })),
    result.then(() => {
      throw new Error('The client answered before it started.');
    }),
  ]);
}

/** Starts every client in its own process, waits until all are ready, then starts them at once. */
export async function runClients(clients: Client[]): Promise<LoadResult[]> {
  const started = await Promise.all(clients.map(startClient));
  started.forEach((client) => client.go());
  return Promise.all(started.map((client) => client.result));
}

/** One load generator (niced) and its result. */
export async function load(job: ClientJob): Promise<LoadResult> {
  const [result] = await runClients([{ job, nice: LOAD_GENERATOR_NICE }]);
  return result;
}
