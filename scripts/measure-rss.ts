/**
 * Measures what the Kubernetes resources are sized from: time to ready, resident memory idle and under load, and
 * throughput, for the built server (`npm run build` first) serving a given model. Not a test: numbers vary by host.
 *
 *   npx tsx scripts/measure-rss.ts --manifest <manifest.json> --model-dir <dir> --image <photo.jpg> [--seconds 20] [--connections 8]
 *
 * Everything listens on 127.0.0.1; the photo is sent as base64 JSON so no URL fetching is involved.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { freePort } from '../test/support/free-port';

const { values } = parseArgs({
  options: {
    entry: { type: 'string', default: 'dist/apps/api/src/main.js' },
    manifest: { type: 'string' },
    'model-dir': { type: 'string' },
    image: { type: 'string' },
    seconds: { type: 'string', default: '20' },
    connections: { type: 'string', default: '8' },
  },
});
const { manifest, 'model-dir': modelDir, image } = values;
if (!manifest || !modelDir || !image) {
  throw new Error('Give --manifest, --model-dir and --image.');
}
const [manifestPath, modelDirPath, imagePath] = [manifest, modelDir, image];

/** VmRSS and VmHWM (peak) of a process, in MiB, from /proc (Linux). */
function memory(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN);
  return { rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 };
}

/** `connections` clients each sending one request after another for `seconds`. */
async function load(url: string, body: string, connections: number, seconds: number) {
  const latencies: number[] = [];
  let non2xx = 0;
  const end = performance.now() + seconds * 1000;
  const client = async () => {
    while (performance.now() < end) {
      const sent = performance.now();
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      await response.arrayBuffer();
      latencies.push(performance.now() - sent);
      if (response.status >= 300) non2xx++;
    }
  };
  await Promise.all(Array.from({ length: connections }, client));
  return { latencies, non2xx };
}

function percentile(values: number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))] ?? NaN);
}

async function main(): Promise<void> {
  const port = await freePort();
  const started = performance.now();
  const server = spawn(process.execPath, [values.entry], {
    env: {
      ...process.env,
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
      MODEL_MANIFEST: manifestPath,
      MODEL_DIR: modelDirPath,
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  server.stdout.resume();
  const base = `http://127.0.0.1:${port}`;
  for (;;) {
    if (server.exitCode !== null) throw new Error(`The server exited with ${server.exitCode}.`);
    const ready = await fetch(`${base}/health/ready`).catch(() => undefined);
    if (ready?.status === 200) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const readyMs = performance.now() - started;
  const idle = memory(server.pid!);
  let peakRss = idle.rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, memory(server.pid!).rss)), 100);
  const body = JSON.stringify({ image: readFileSync(imagePath).toString('base64') });
  const result = await load(
    `${base}/v1/predictions`,
    body,
    Number(values.connections),
    Number(values.seconds),
  );
  clearInterval(sampler);
  const after = memory(server.pid!);
  server.kill('SIGTERM');
  const report = {
    ready_ms: Math.round(readyMs),
    rss_idle_mib: Math.round(idle.rss),
    rss_peak_under_load_mib: Math.round(Math.max(peakRss, after.peak)),
    rss_after_load_mib: Math.round(after.rss),
    requests: result.latencies.length,
    non_2xx: result.non2xx,
    requests_per_second: Math.round((result.latencies.length / Number(values.seconds)) * 10) / 10,
    latency_p50_ms: percentile(result.latencies, 0.5),
    latency_p99_ms: percentile(result.latencies, 0.99),
    connections: Number(values.connections),
  };
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
