/**
 * npm run bench:grpc [-- --seconds 8 --connections 8]
 *
 * The Open Inference Protocol over gRPC beside REST, on the built server (`npm run build` first) started as KServe
 * starts it (`--model_name --model_dir --http_port --grpc_port`, a plain model folder, manifest drafted), with the
 * real Food-101 TFLite model: time to ready, RSS, and bounded closed-loop rounds on 127.0.0.1 (REST JSON base64
 * JPEG, gRPC JPEG bytes, gRPC raw UINT8 and FP32 tensors). Writes bench/results-grpc.md. Numbers vary by host.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { credentials, loadPackageDefinition, type GrpcObject, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import sharp from 'sharp';

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

const freePort = () =>
  new Promise<number>((done) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => done(port));
    });
  });

const rssMiB = (pid: number) =>
  Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

interface Round {
  name: string;
  requests: number;
  errors: number;
  seconds: number;
  latencies: number[];
}

/** Runs `send` from `connections` loops for `seconds`, each loop waiting for its answer before the next call. */
async function round(name: string, send: () => Promise<boolean>): Promise<Round> {
  const latencies: number[] = [];
  let errors = 0;
  const end = performance.now() + SECONDS * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        if (await send()) latencies.push(performance.now() - t);
        else errors++;
      }
    }),
  );
  return {
    name,
    requests: latencies.length,
    errors,
    seconds: (performance.now() - started) / 1000,
    latencies,
  };
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

    const photo = readFileSync(
      join(
        PHOTOS,
        readdirSync(PHOTOS)
          .filter((f) => f.endsWith('.jpg'))
          .sort()[0],
      ),
    );
    const pixels = await sharp(photo).removeAlpha().resize(224, 224, { fit: 'fill' }).raw().toBuffer();
    const fp32 = Buffer.from(Float32Array.from(pixels).buffer);
    const root = loadPackageDefinition(
      loadSync(join('apps', 'api', 'src', 'grpc', 'proto', 'open_inference_grpc.proto'), {
        keepCase: true,
        longs: Number,
        defaults: true,
        oneofs: true,
      }),
    );
    const Service = (root.inference as GrpcObject).GRPCInferenceService as unknown as new (
      address: string,
      creds: ReturnType<typeof credentials.createInsecure>,
    ) => { ModelInfer(request: object, callback: (error: ServiceError | null) => void): void; close(): void };
    const clients = Array.from(
      { length: CONNECTIONS },
      () => new Service(`127.0.0.1:${grpcPort}`, credentials.createInsecure()),
    );
    let next = 0;
    const infer = (request: object) =>
      new Promise<boolean>((done) =>
        clients[next++ % clients.length].ModelInfer(request, (error) => done(!error)),
      );
    const restBody = JSON.stringify({
      inputs: [{ name: 'image', datatype: 'BYTES', shape: [1], data: [photo.toString('base64')] }],
    });
    const rest = () =>
      fetch(`http://127.0.0.1:${httpPort}/v2/models/${MODEL}/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: restBody,
      }).then(
        async (response) => {
          await response.arrayBuffer();
          return response.ok;
        },
        () => false,
      );
    const grpcJpeg = {
      model_name: MODEL,
      inputs: [{ name: 'image', datatype: 'BYTES', shape: [1], contents: { bytes_contents: [photo] } }],
    };
    const rawLength = Buffer.alloc(4);
    rawLength.writeUInt32LE(photo.length);
    const grpcRawJpeg = {
      model_name: MODEL,
      inputs: [{ name: 'image', datatype: 'BYTES', shape: [1] }],
      raw_input_contents: [Buffer.concat([rawLength, photo])],
    };
    const tensor = (datatype: string, raw: Buffer) => ({
      model_name: MODEL,
      inputs: [{ name: 'input', datatype, shape: [1, 224, 224, 3] }],
      raw_input_contents: [raw],
    });

    await round('warm-up', rest);
    let peakRss = idleRss;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssMiB(child.pid!))), 200);
    const rounds = [
      await round('REST /v2 JSON, base64 JPEG', rest),
      await round('gRPC, JPEG in bytes_contents', () => infer(grpcJpeg)),
      await round('gRPC, JPEG in raw_input_contents', () => infer(grpcRawJpeg)),
      await round('gRPC, UINT8 tensor raw [1,224,224,3]', () => infer(tensor('UINT8', pixels))),
      await round('gRPC, FP32 tensor raw [1,224,224,3]', () => infer(tensor('FP32', fp32))),
    ];
    clearInterval(sampler);
    clients.forEach((client) => client.close());

    const lines = [
      '# Benchmark: Open Inference Protocol over gRPC beside REST',
      '',
      `Written by \`npm run bench:grpc\` on ${new Date().toISOString().slice(0, 10)}: ${cpus()[0]?.model ?? 'CPU'}, ${availableParallelism()} CPUs; Node ${process.version}; load average ${loadavg()[0].toFixed(1)} at the end (above ${availableParallelism()} means other processes shared the CPUs and every number is lower than on a quiet host).`,
      `The built server as KServe starts it (\`--model_name=${MODEL} --model_dir=<plain folder> --http_port --grpc_port\`, manifest drafted), STM32 Food-101 MobileNetV1 0.5 int8 TFLite, default INFERENCE_WORKERS (${availableParallelism()}).`,
      `Each round: ${CONNECTIONS} closed loops for ${SECONDS} s on 127.0.0.1, one photo per request (${photo.length} bytes JPEG). The load generator runs in the bench process beside the server, so both share the CPUs: compare rounds, not hosts.`,
      '',
      '| | value |',
      '| --- | --- |',
      `| time to ready (spawn to \`/v2/health/ready\` 200, draft included) | ${Math.round(readyMs)} ms |`,
      `| RSS idle, model loaded | ${idleRss.toFixed(0)} MiB |`,
      `| RSS peak during the rounds | ${peakRss.toFixed(0)} MiB |`,
      '',
      '| round | req/s | p50 | p99 | errors |',
      '| --- | --- | --- | --- | --- |',
      ...rounds.map((r) => {
        const sorted = [...r.latencies].sort((a, b) => a - b);
        return `| ${r.name} | ${(r.requests / r.seconds).toFixed(1)} | ${percentile(sorted, 0.5)?.toFixed(1)} ms | ${percentile(sorted, 0.99)?.toFixed(1)} ms | ${r.errors} |`;
      }),
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
