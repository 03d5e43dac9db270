/**
 * `npm run bench`: throughput of the real service against what the engines can do, in one bounded run (a few
 * minutes). Builds the app, starts it on 127.0.0.1 with the Food-101 TFLite fixture, drives it with autocannon
 * through the upload and URL routes, and compares it with the engines' ceiling, the naive seed port and, for a
 * float model, onnxruntime against tfjs-WASM. Prints the tables and writes bench/results.md. Not a test.
 *
 * SHARED_DIR points at the shared models and photos (default ../shared); BENCH_SECONDS sets each timed run (5).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { resolveModel } from '@app/inference';
import { startImageServer, serveBytes, type Route } from '../test/support/image-server';
import { FIXTURE_MODELS, foodPhotos, type FixtureModel } from '../test/support/shared-data';
import { measureBatchCost } from './lib/batching';
import { buildApp } from './lib/build';
import { measureCeiling, type CeilingResult } from './lib/ceiling';
import {
  jsonBody,
  multipartUpload,
  postLoad,
  probeFromOwnProcess,
  type LoadResult,
  type RequestBody,
} from './lib/load';
import { describeMachine } from './lib/machine';
import { renderReport, type BenchResults, type FloatEngineResult } from './lib/report';
import { startServer, type RunningServer } from './lib/server';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CORES = availableParallelism();
const TMP = join(__dirname, '.tmp');
const CONCURRENCIES = [1, 4, 16, 64];
const RSS_REQUESTS = 10_000;
const SATURATION_ROUNDS = 3;

const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);
const photos = foodPhotos().map((photo) => ({ ...photo, bytes: readFileSync(photo.path) }));
const uploads: RequestBody[] = photos.map((photo) => multipartUpload(photo.file, photo.bytes));

function serverEnv(model: FixtureModel, extra: Record<string, string> = {}): Record<string, string> {
  return {
    MODEL_MANIFEST: model.manifest,
    MODEL_DIR: model.dir,
    IMAGE_FETCH_ALLOW_HOSTS: '127.0.0.1',
    ...extra,
  };
}

async function sweep(server: RunningServer, bodies: RequestBody[], name: string): Promise<LoadResult[]> {
  const results: LoadResult[] = [];
  for (const connections of CONCURRENCIES) {
    const cpuBefore = server.cpu();
    const result = await postLoad({
      url: `${server.baseUrl}/v1/predictions`,
      connections,
      bodies,
      duration: SECONDS,
    });
    const cpuAfter = server.cpu();
    const perRequest = (seconds: number) => (seconds * 1000) / Math.max(1, result.total);
    result.cpuPerRequest = {
      processMs: perRequest(cpuAfter.process - cpuBefore.process),
      mainThreadMs: perRequest(cpuAfter.mainThread - cpuBefore.mainThread),
    };
    log(`${name} c=${connections}: ${result.requestsPerSecond.toFixed(1)} req/s, p99 ${result.p99} ms`);
    results.push(result);
  }
  return results;
}

async function ceilings(
  model: FixtureModel,
  layouts: Array<[number, number]>,
  floatEngine: 'onnxruntime' | 'tfjs',
) {
  const results: CeilingResult[] = [];
  for (const [workers, threadsPerWorker] of layouts) {
    const result = await measureCeiling({
      model: { manifestPath: model.manifest, modelDir: model.dir },
      photos: photos.map((photo) => photo.bytes),
      workers,
      threadsPerWorker,
      floatEngine,
      seconds: SECONDS,
    });
    log(
      `ceiling ${result.engine} ${workers}×${threadsPerWorker}: ${result.imagesPerSecond.toFixed(1)} images/s`,
    );
    results.push(result);
  }
  return results;
}

async function floatEngine(entry: string, engine: 'onnxruntime' | 'tfjs'): Promise<FloatEngineResult> {
  const model = FIXTURE_MODELS.mobilenetV2Tfjs;
  // onnxruntime can also use several threads in one worker: compare that layout with one worker per core.
  const layouts: Array<[number, number]> =
    engine === 'onnxruntime' && CORES > 1
      ? [
          [CORES, 1],
          [1, CORES],
        ]
      : [[CORES, 1]];
  const [ceiling, ...otherLayouts] = await ceilings(model, layouts, engine);
  const server = await startServer({
    entry,
    env: serverEnv(model, { INFERENCE_FLOAT_ENGINE: engine }),
    logFile: join(TMP, `server-float-${engine}.log`),
  });
  try {
    await postLoad({ url: `${server.baseUrl}/v1/predictions`, connections: 4, bodies: uploads, duration: 1 });
    const service = [];
    for (const connections of [1, 16]) {
      const result = await postLoad({
        url: `${server.baseUrl}/v1/predictions`,
        connections,
        bodies: uploads,
        duration: SECONDS,
      });
      log(`float ${engine} upload c=${connections}: ${result.requestsPerSecond.toFixed(1)} req/s`);
      service.push(result);
    }
    return { engine: ceiling.engine, ceiling, otherLayouts, service };
  } finally {
    await server.stop();
  }
}

/** The Food-101 service: sweeps, then saturation rounds each paired with a fresh ceiling, then memory. */
async function serviceRuns(entry: string, imageUrl: (path: string) => string) {
  const food = FIXTURE_MODELS.food101Tflite;
  // Worker layouts for comparison (LiteRT's WASM build runs one thread per worker).
  const layouts = CORES > 1 ? await ceilings(food, [[1, 1]], 'onnxruntime') : [];
  log('starting the service…');
  const server = await startServer({ entry, env: serverEnv(food), logFile: join(TMP, 'server.log') });
  try {
    const idle = server.rssMiB();
    await postLoad({
      url: `${server.baseUrl}/v1/predictions`,
      connections: 16,
      bodies: uploads,
      duration: 2,
    });
    const upload = await sweep(server, uploads, 'upload');
    const urlBodies = photos.map((_, i) => jsonBody({ url: imageUrl(`/${i}.jpg`) }));
    const url = await sweep(server, urlBodies, 'url');
    // Other processes on a shared machine make single runs noisy: pair each saturated run with a ceiling
    // measured just before it (the server idles meanwhile), and compare the best of each.
    const saturation: BenchResults['saturation'] = [];
    for (let round = 1; round <= SATURATION_ROUNDS; round++) {
      const [ceiling] = await ceilings(food, [[CORES, 1]], 'onnxruntime');
      const [service, liveness] = await Promise.all([
        postLoad({
          url: `${server.baseUrl}/v1/predictions`,
          connections: 64,
          bodies: uploads,
          duration: SECONDS,
        }),
        probeFromOwnProcess(`${server.baseUrl}/health/live`, SECONDS),
      ]);
      log(
        `round ${round}: service ${service.requestsPerSecond.toFixed(1)} req/s at 64 connections, liveness p99 ${liveness.p99} ms`,
      );
      saturation.push({ ceiling, service, liveness });
    }
    const before = server.rssMiB();
    log(`${RSS_REQUESTS} more requests for the memory check…`);
    const run = await postLoad({
      url: `${server.baseUrl}/v1/predictions`,
      connections: 16,
      bodies: uploads,
      amount: RSS_REQUESTS,
    });
    const rss = { idle, before, after: server.rssMiB(), requests: run.total, run };
    log(`RSS ${before.toFixed(0)} → ${rss.after.toFixed(0)} MiB`);
    return { layouts, service: { upload, url }, saturation, rss };
  } finally {
    await server.stop();
  }
}

/** The naive port, one request at a time, with a liveness probe beside it. */
async function naiveRuns(): Promise<BenchResults['naive']> {
  log('the naive port (jimp + tfjs pure-JS, one request at a time)…');
  const tsx = createRequire(__filename).resolve('tsx/cjs');
  const server = await startServer({
    entry: join(__dirname, 'lib', 'naive-server.ts'),
    execArgv: ['--require', tsx],
    env: serverEnv(FIXTURE_MODELS.mobilenetV2Tfjs),
    logFile: join(TMP, 'naive.log'),
    readyPath: '/health/live',
  });
  try {
    const raw = photos.map((photo) => ({ headers: { 'content-type': 'image/jpeg' }, body: photo.bytes }));
    await postLoad({ url: `${server.baseUrl}/predict`, connections: 1, bodies: raw, amount: 1 });
    const [run, liveness] = await Promise.all([
      postLoad({ url: `${server.baseUrl}/predict`, connections: 1, bodies: raw, amount: 6 }),
      probeFromOwnProcess(`${server.baseUrl}/health/live`, 6),
    ]);
    log(`naive: ${run.requestsPerSecond.toFixed(2)} req/s, liveness p99 ${liveness.p99} ms`);
    return { run, liveness };
  } finally {
    await server.stop();
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  const loadAtStart = loadavg()[0];
  mkdirSync(TMP, { recursive: true });
  const machine = describeMachine();
  log(`${machine.cpu}, ${machine.vcpus} vCPU, Node ${machine.node}; ${SECONDS} s per run`);
  log('building the app (nest build)…');
  const build = await buildApp();
  const routes: Record<string, Route> = {};
  photos.forEach((photo, i) => (routes[`/${i}.jpg`] = serveBytes(photo.bytes)));
  const images = await startImageServer(routes);
  try {
    const food = await serviceRuns(build.entry, (path) => images.url(path));
    const naive = await naiveRuns();
    log('float model: onnxruntime vs tfjs-WASM…');
    const mobilenet = FIXTURE_MODELS.mobilenetV2Tfjs;
    const float = {
      onnx: await floatEngine(build.entry, 'onnxruntime'),
      tfjs: await floatEngine(build.entry, 'tfjs'),
      batching: await measureBatchCost(
        await resolveModel({ manifestPath: mobilenet.manifest, modelDir: mobilenet.dir }),
        2,
      ),
    };
    const results: BenchResults = {
      machine,
      seconds: SECONDS,
      ...food,
      naive,
      float,
      durationSeconds: (performance.now() - started) / 1000,
      loadAverage: { start: loadAtStart, end: loadavg()[0] },
    };
    const report = renderReport(results);
    writeFileSync(join(__dirname, 'results.md'), report);
    process.stdout.write(`${report}\n`);
    log(`wrote ${join('bench', 'results.md')} in ${results.durationSeconds.toFixed(0)} s`);
  } finally {
    await images.close();
    build.remove();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
