/**
 * npm run bench:grpc [-- --seconds 8 --connections 8]
 *
 * The Open Inference Protocol over gRPC beside REST, on the built server (`npm run build` first) started as KServe
 * starts it (`--model_name --model_dir --http_port --grpc_port`, a plain model folder, manifest drafted), with the
 * real Food-101 TFLite model: time to ready, RSS, and bounded closed-loop rounds on 127.0.0.1 (REST JSON base64
 * JPEG, gRPC JPEG bytes, gRPC raw UINT8 and FP32 tensors). Writes bench/results-grpc.md. Numbers vary by host.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import type { OipJob, OipRequest, OipResult } from './lib/oip-load-process';
import { cpuSeconds, freePort, rssMiB } from './lib/server';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '8' },
    connections: { type: 'string', default: '8' },
    shared: { type: 'string', default: process.env.SHARED_DIR ?? resolve(__dirname, '..', '..', 'shared') },
  },
});
const SECONDS = Number(values.seconds);
const CONNECTIONS = Number(values.connections);
const MODEL_DIR = join(values.shared, 'models', 'stm32-food101-mobilenet_v1_0.5_224_fft_int8');
const PHOTOS = join(values.shared, 'images', 'food');
const MODEL = 'food101';

interface Round extends OipResult {
  name: string;
  /** The server process's CPU time (user + system) over the round, in ms. */
  serverCpuMs: number;
}

/** One round from a load generator in its own process: started, readied (requests encoded), then let go. */
function round(
  name: string,
  job: Omit<OipJob, 'seconds' | 'connections'>,
  serverPid: number,
): Promise<Round> {
  const tsx = createRequire(__filename).resolve('tsx/cjs');
  const child = spawn(
    process.execPath,
    [
      '--require',
      tsx,
      join(__dirname, 'lib', 'oip-load-process.ts'),
      JSON.stringify({ ...job, seconds: SECONDS, connections: CONNECTIONS }),
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: child.stdout });
  let cpuBefore = 0;
  return new Promise<Round>((resolve, reject) => {
    lines.on('line', (line) => {
      if (line === 'ready') {
        cpuBefore = cpuSeconds(serverPid);
        child.stdin.end('go\n');
      } else if (line.startsWith('{')) {
        resolve({
          name,
          serverCpuMs: (cpuSeconds(serverPid) - cpuBefore) * 1000,
          ...(JSON.parse(line) as OipResult),
        });
      }
    });
    child.once('exit', (code) =>
      reject(new Error(`The load generator of "${name}" exited with ${code} without a result.`)),
    );
  });
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];

async function main(): Promise<void> {
  const [httpPort, grpcPort] = [await freePort(), await freePort()];
  const t0 = performance.now();
  const child = spawn(
    process.execPath,
    [
      'dist/apps/api/src/main.js',
      `--model_name=${MODEL}`,
      `--model_dir=${MODEL_DIR}`,
      `--http_port=${httpPort}`,
      `--grpc_port=${grpcPort}`,
    ],
    {
      env: {
        ...process.env,
        HOST: '127.0.0.1',
        PORT: '',
        GRPC_PORT: '',
        NODE_ENV: 'production',
        LOG_LEVEL: 'warn',
      },
    },
  );
  const timeout = setTimeout(() => child.kill('SIGKILL'), (SECONDS * 6 + 120) * 1000);
  try {
    for (;;) {
      const ready = await fetch(`http://127.0.0.1:${httpPort}/v2/health/ready`).then(
        (r) => r.ok,
        () => false,
      );
      if (ready) break;
      if (child.exitCode !== null) throw new Error('The server exited before it was ready.');
      await new Promise((done) => setTimeout(done, 50));
    }
    const readyMs = performance.now() - t0;
    const idleRss = rssMiB(child.pid!);

    const photoPath = join(
      PHOTOS,
      readdirSync(PHOTOS)
        .filter((f) => f.endsWith('.jpg'))
        .sort()[0],
    );
    const photo = readFileSync(photoPath);
    const pixelsPath = join(mkdtempSync(join(tmpdir(), 'bench-grpc-')), 'pixels.rgb');
    writeFileSync(
      pixelsPath,
      await sharp(photo).removeAlpha().resize(224, 224, { fit: 'fill' }).raw().toBuffer(),
    );
    const job = (request: OipRequest) => ({
      request,
      httpPort,
      grpcPort,
      model: MODEL,
      photo: photoPath,
      pixels: pixelsPath,
    });
    await round('warm-up', job('rest-jpeg'), child.pid!);
    let peakRss = idleRss;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssMiB(child.pid!))), 200);
    const rounds = [
      await round('REST /v2 JSON, base64 JPEG', job('rest-jpeg'), child.pid!),
      await round('gRPC, JPEG in bytes_contents', job('grpc-jpeg'), child.pid!),
      await round('gRPC, JPEG in raw_input_contents', job('grpc-raw-jpeg'), child.pid!),
      await round('gRPC, UINT8 tensor raw [1,224,224,3]', job('grpc-uint8'), child.pid!),
      await round('gRPC, FP32 tensor raw [1,224,224,3]', job('grpc-fp32'), child.pid!),
    ];
    clearInterval(sampler);
    const rate = (index: number) => rounds[index].requests / rounds[index].seconds;
    const ratios = [
      ['raw UINT8 tensor ÷ JPEG in raw_input_contents (target ≥ 1)', rate(3) / rate(2)],
      ['raw FP32 tensor ÷ JPEG in raw_input_contents (target ≥ 0.9)', rate(4) / rate(2)],
      ['REST /v2 ÷ gRPC, the same JPEG (target ≥ 0.9)', rate(0) / rate(1)],
    ] as const;

    const lines = [
      '# Benchmark: Open Inference Protocol over gRPC beside REST',
      '',
      `Written by \`npm run bench:grpc\` on ${new Date().toISOString().slice(0, 10)}: ${cpus()[0]?.model ?? 'CPU'}, ${availableParallelism()} CPUs; Node ${process.version}; load average ${loadavg()[0].toFixed(1)} at the end (above ${availableParallelism()} means other processes shared the CPUs and every number is lower than on a quiet host).`,
      `The built server as KServe starts it (\`--model_name=${MODEL} --model_dir=<plain folder> --http_port --grpc_port\`, manifest drafted), STM32 Food-101 MobileNetV1 0.5 int8 TFLite, default INFERENCE_WORKERS (${availableParallelism()}).`,
      `Each round: ${CONNECTIONS} closed loops for ${SECONDS} s on 127.0.0.1, one photo per request (${photo.length} bytes JPEG). Each round's load generator runs in its own process and sends requests it encoded once before the round (so its encoding is not billed to the server), but it shares the ${availableParallelism()} CPUs with the server: compare rounds, not hosts.`,
      '',
      '| | value |',
      '| --- | --- |',
      `| time to ready (spawn to \`/v2/health/ready\` 200, draft included) | ${Math.round(readyMs)} ms |`,
      `| RSS idle, model loaded | ${idleRss.toFixed(0)} MiB |`,
      `| RSS peak during the rounds | ${peakRss.toFixed(0)} MiB |`,
      '',
      '| round | req/s | p50 | p99 | errors | server CPU per request | load generator CPU per request |',
      '| --- | --- | --- | --- | --- | --- | --- |',
      ...rounds.map((r) => {
        const sorted = [...r.latencies].sort((a, b) => a - b);
        return `| ${r.name} | ${(r.requests / r.seconds).toFixed(1)} | ${percentile(sorted, 0.5)?.toFixed(1)} ms | ${percentile(sorted, 0.99)?.toFixed(1)} ms | ${r.errors} | ${(r.serverCpuMs / Math.max(1, r.requests)).toFixed(1)} ms | ${(r.clientCpuMs / Math.max(1, r.requests)).toFixed(1)} ms |`;
      }),
      '',
      '| ratio | value |',
      '| --- | --- |',
      ...ratios.map(([what, value]) => `| ${what} | ${value.toFixed(2)} |`),
      '',
    ];
    writeFileSync(join('bench', 'results-grpc.md'), lines.join('\n'));
    process.stdout.write(lines.join('\n'));
  } finally {
    clearTimeout(timeout);
    child.kill('SIGTERM');
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:grpc: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
