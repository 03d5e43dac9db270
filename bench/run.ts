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
import { buildApp, type BuiltApp } from './lib/build';
import { openCeiling, type Ceiling, type CeilingResult } from './lib/ceiling';
import type { ClientJob } from './lib/client-process';
import { LOAD_GENERATOR_NICE, load, runClients } from './lib/clients';
import type { LoadResult } from './lib/load';
import { describeMachine } from './lib/machine';
import { h5ModelConfig, kerasModelFlops } from './lib/model-flops';
import { versusPeer } from './lib/versus-peer';
import { renderVersusPeer } from './lib/versus-peer-report';
import { renderReport, type BenchResults, type FloatEngineResult } from './lib/report';
import { startServer, type RunningServer } from './lib/server';
import { measureTracingOverhead, renderTracingOverhead } from './lib/tracing-overhead';
import { measureShadowCost, renderShadowCost } from './lib/shadow-cost';
import { measureExplanationCost, renderExplanationCost } from './lib/explanation-cost';
import { measureJobsCost, renderJobsCost } from './lib/jobs-cost';

/** `--quick`: the side-by-side with the peer only, one short round each (about 2 minutes). */
const QUICK = process.argv.includes('--quick');
/**
 * `--tracing`: the tracing overhead alone (about 2 minutes), written to bench/results-tracing.md; with
 * BENCH_BASELINE_REF (a commit), that commit's build joins the rounds.
 */
const TRACING_ONLY = process.argv.includes('--tracing');
/** `--explain`: the explanation cost alone (about a minute), written to bench/results-explain.md. */
const EXPLAIN_ONLY = process.argv.includes('--explain');
/** `--rollout`: shadow traffic's cost alone (about 2 minutes), written to bench/results-rollout.md. */
const ROLLOUT_ONLY = process.argv.includes('--rollout');
/** `--jobs`: a bulk job beside interactive traffic alone (about a minute), written to bench/results-jobs.md. */
const JOBS_ONLY = process.argv.includes('--jobs');
/** Items in the bench's bulk job (BENCH_JOB_ITEMS). */
const JOB_ITEMS = Number(process.env.BENCH_JOB_ITEMS ?? 10_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? (QUICK ? 3 : 5));
/** Rounds against the peer: each this long, this many per contender. */
const PEER_SECONDS = Number(process.env.BENCH_PEER_SECONDS ?? (QUICK ? 3 : 8));
const PEER_ROUNDS = QUICK ? 1 : 2;
const CORES = availableParallelism();
const TMP = join(__dirname, '.tmp');
const CONCURRENCIES = [1, 4, 16, 64];
const RSS_REQUESTS = 10_000;
const RSS_MAX_SECONDS = QUICK ? 30 : 180;
const SATURATION_ROUNDS = 3;

const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);
const photos = foodPhotos().map((photo) => ({ ...photo, bytes: readFileSync(photo.path) }));

function serverEnv(model: FixtureModel, extra: Record<string, string> = {}): Record<string, string> {
  return {
    MODEL_MANIFEST: model.manifest,
    MODEL_DIR: model.dir,
    IMAGE_FETCH_ALLOW_HOSTS: '127.0.0.1',
    ...extra,
  };
}

type PostBodies = Extract<ClientJob, { kind: 'post' }>['bodies'];

async function sweep(server: RunningServer, bodies: PostBodies, name: string): Promise<LoadResult[]> {
  const results: LoadResult[] = [];
  for (const connections of CONCURRENCIES) {
    const cpuBefore = server.cpu();
    const result = await load({
      kind: 'post',
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

const WARM_SECONDS = 4;

function openFixtureCeiling(
  app: BuiltApp,
  model: FixtureModel,
  [workers, threadsPerWorker]: [number, number],
  floatEngine: 'onnxruntime' | 'tfjs',
): Promise<Ceiling> {
  return openCeiling({
    inferenceLibrary: app.inferenceLibrary,
    model: { manifestPath: model.manifest, modelDir: model.dir },
    photos: photos.map((photo) => photo.bytes),
    workers,
    threadsPerWorker,
    floatEngine,
    warmSeconds: WARM_SECONDS,
  });
}

function logCeiling(result: CeilingResult): CeilingResult {
  log(
    `ceiling ${result.engine} ${result.workers}×${result.threadsPerWorker}: ${result.imagesPerSecond.toFixed(1)} images/s`,
  );
  return result;
}

/** One ceiling per layout, each measured once on freshly warmed workers. */
async function ceilings(
  app: BuiltApp,
  model: FixtureModel,
  layouts: Array<[number, number]>,
  floatEngine: 'onnxruntime' | 'tfjs',
): Promise<CeilingResult[]> {
  const results: CeilingResult[] = [];
  for (const layout of layouts) {
    const ceiling = await openFixtureCeiling(app, model, layout, floatEngine);
    try {
      results.push(logCeiling(await ceiling.measure(SECONDS)));
    } finally {
      await ceiling.close();
    }
  }
  return results;
}

async function floatEngine(app: BuiltApp, engine: 'onnxruntime' | 'tfjs'): Promise<FloatEngineResult> {
  const model = FIXTURE_MODELS.mobilenetV2Tfjs;
  // onnxruntime can also use several threads in one worker: compare that layout with one worker per core.
  const layouts: Array<[number, number]> =
    engine === 'onnxruntime' && CORES > 1
      ? [
          [CORES, 1],
          [1, CORES],
        ]
      : [[CORES, 1]];
  const [ceiling, ...otherLayouts] = await ceilings(app, model, layouts, engine);
  const server = await startServer({
    entry: app.entry,
    env: serverEnv(model, { INFERENCE_FLOAT_ENGINE: engine }),
    logFile: join(TMP, `server-float-${engine}.log`),
  });
  try {
    await load({
      kind: 'post',
      url: `${server.baseUrl}/v1/predictions`,
      connections: 4,
      bodies: 'uploads',
      duration: 1,
    });
    const service = [];
    for (const connections of [1, 16]) {
      const result = await load({
        kind: 'post',
        url: `${server.baseUrl}/v1/predictions`,
        connections,
        bodies: 'uploads',
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
async function serviceRuns(app: BuiltApp, imageUrl: (path: string) => string) {
  const food = FIXTURE_MODELS.food101Tflite;
  // Worker layouts for comparison (LiteRT's WASM build runs one thread per worker).
  const layouts = CORES > 1 ? await ceilings(app, food, [[1, 1]], 'onnxruntime') : [];
  // The ceiling's workers stay up (idle while the server is measured) so each round compares warm with warm.
  const ceiling = await openFixtureCeiling(app, food, [CORES, 1], 'onnxruntime');
  try {
    return { layouts, ...(await measureService(app, ceiling, imageUrl)) };
  } finally {
    await ceiling.close();
  }
}

async function measureService(app: BuiltApp, ceiling: Ceiling, imageUrl: (path: string) => string) {
  log('starting the service…');
  const server = await startServer({
    entry: app.entry,
    env: serverEnv(FIXTURE_MODELS.food101Tflite),
    logFile: join(TMP, 'server.log'),
  });
  try {
    const idle = server.rssMiB();
    await load({
      kind: 'post',
      url: `${server.baseUrl}/v1/predictions`,
      connections: 16,
      bodies: 'uploads',
      duration: WARM_SECONDS,
    });
    const upload = await sweep(server, 'uploads', 'upload');
    const url = await sweep(server, { urls: photos.map((_, i) => imageUrl(`/${i}.jpg`)) }, 'url');
    // Other processes on a shared machine make single runs noisy: pair each saturated run with a ceiling
    // measured just before it, and compare round by round.
    const saturation: BenchResults['saturation'] = [];
    for (let round = 1; round <= SATURATION_ROUNDS; round++) {
      const roundCeiling = logCeiling(await ceiling.measure(SECONDS));
      const [service, liveness] = await runClients([
        {
          job: {
            kind: 'post',
            url: `${server.baseUrl}/v1/predictions`,
            connections: 64,
            bodies: 'uploads',
            duration: SECONDS,
          },
          nice: LOAD_GENERATOR_NICE,
        },
        { job: { kind: 'probe', url: `${server.baseUrl}/health/live`, duration: SECONDS } },
      ]);
      log(
        `round ${round}: service ${service.requestsPerSecond.toFixed(1)} req/s at 64 connections, liveness p99 ${liveness.p99} ms`,
      );
      saturation.push({ ceiling: roundCeiling, service, liveness });
    }
    const before = server.rssMiB();
    log(`up to ${RSS_REQUESTS} more requests (at most ${RSS_MAX_SECONDS} s) for the memory check…`);
    // 10 000 requests, or RSS_MAX_SECONDS of them when the machine is too busy to serve that many in time.
    const rate = Math.min(...saturation.map((round) => round.service.requestsPerSecond));
    const run = await load({
      kind: 'post',
      url: `${server.baseUrl}/v1/predictions`,
      connections: 16,
      bodies: 'uploads',
      ...(rate * RSS_MAX_SECONDS >= RSS_REQUESTS ? { amount: RSS_REQUESTS } : { duration: RSS_MAX_SECONDS }),
    });
    const rss = { idle, before, after: server.rssMiB(), requests: run.total, run };
    log(`RSS ${before.toFixed(0)} → ${rss.after.toFixed(0)} MiB`);
    return { service: { upload, url }, saturation, rss };
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
    await load({ kind: 'post', url: `${server.baseUrl}/predict`, connections: 1, bodies: 'raw', amount: 1 });
    const [run, liveness] = await runClients([
      {
        job: { kind: 'post', url: `${server.baseUrl}/predict`, connections: 1, bodies: 'raw', amount: 6 },
        nice: LOAD_GENERATOR_NICE,
      },
      { job: { kind: 'probe', url: `${server.baseUrl}/health/live`, duration: 6 } },
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
    const tracing = () =>
      measureTracingOverhead({
        app: build,
        env: serverEnv(FIXTURE_MODELS.food101Tflite),
        urls: photos.map((_, i) => images.url(`/${i}.jpg`)),
        seconds: SECONDS,
        rounds: TRACING_ONLY ? 3 : 2,
        tmp: TMP,
        baselineRef: process.env.BENCH_BASELINE_REF,
        log,
      });
    const explanations = async () =>
      renderExplanationCost(
        await measureExplanationCost({
          app: build,
          env: serverEnv(FIXTURE_MODELS.food101Tflite),
          photos: photos.filter((_, index) => index % 2 === 0),
          seconds: SECONDS,
          tmp: TMP,
          log,
        }),
        SECONDS,
      );
    const shadowCost = async () =>
      renderShadowCost(
        await measureShadowCost({
          app: build,
          urls: photos.map((_, i) => images.url(`/${i}.jpg`)),
          seconds: SECONDS,
          rounds: ROLLOUT_ONLY ? 3 : 2,
          tmp: TMP,
          log,
        }),
      );
    const jobsCost = async () =>
      renderJobsCost(
        await measureJobsCost({
          app: build,
          env: serverEnv(FIXTURE_MODELS.food101Tflite),
          urls: photos.map((_, i) => images.url(`/${i}.jpg`)),
          items: JOB_ITEMS,
          seconds: SECONDS,
          tmp: TMP,
          log,
        }),
        SECONDS,
        `INFERENCE_WORKERS=${CORES} (one per core), BACKGROUND_WORKERS and JOBS_CONCURRENCY at their defaults`,
      );
    if (JOBS_ONLY) {
      const section = await jobsCost();
      const report = `# Benchmark (--jobs)\n\n${machine.cpu}, ${machine.vcpus} vCPU, Node ${machine.node}, commit ${machine.commit}, ${machine.date}; load average ${loadAtStart.toFixed(2)} at the start, ${loadavg()[0].toFixed(2)} at the end (other work on the machine shows as noise between the two interactive-alone rows).\n\n${section}`;
      writeFileSync(join(__dirname, 'results-jobs.md'), report);
      process.stdout.write(`${report}\n`);
      return;
    }
    if (ROLLOUT_ONLY) {
      const report = `# Benchmark (--rollout)\n\n${machine.cpu}, ${machine.vcpus} vCPU, Node ${machine.node}, commit ${machine.commit}, ${machine.date}.\n\n${await shadowCost()}`;
      writeFileSync(join(__dirname, 'results-rollout.md'), report);
      process.stdout.write(`${report}\n`);
      return;
    }
    if (EXPLAIN_ONLY) {
      const report = `# Benchmark (--explain)\n\n${machine.cpu}, ${machine.vcpus} vCPU, Node ${machine.node}, commit ${machine.commit}, ${machine.date}.\n\n${await explanations()}`;
      writeFileSync(join(__dirname, 'results-explain.md'), report);
      process.stdout.write(`${report}\n`);
      return;
    }
    if (TRACING_ONLY) {
      const report = `# Benchmark (--tracing)\n\n${machine.cpu}, ${machine.vcpus} vCPU, Node ${machine.node}, commit ${machine.commit}, ${machine.date}.\n\n${renderTracingOverhead(await tracing())}`;
      writeFileSync(join(__dirname, 'results-tracing.md'), report);
      process.stdout.write(`${report}\n`);
      return;
    }
    const h5 = FIXTURE_MODELS.food101KerasH5;
    const h5Model = await resolveModel({ manifestPath: h5.manifest, modelDir: h5.dir });
    log('the service against the Python peer, side by side…');
    const peer = await versusPeer({
      app: build,
      resolved: h5Model,
      tmp: TMP,
      seconds: PEER_SECONDS,
      rounds: PEER_ROUNDS,
      phoneSeconds: PEER_SECONDS,
      log,
    });
    const flops = kerasModelFlops(await h5ModelConfig(h5Model.entryPath), [224, 224, 3]);
    const peerReport = renderVersusPeer(peer, flops);
    if (QUICK) {
      const report = `# Benchmark (--quick)\n\n${machine.cpu}, ${machine.vcpus} vCPU, Node ${machine.node}, commit ${machine.commit}, ${machine.date}; load average ${loadAtStart.toFixed(2)} at the start, ${loadavg()[0].toFixed(2)} at the end.\n\n${peerReport}`;
      writeFileSync(join(__dirname, 'results.md'), report);
      process.stdout.write(`${report}\n`);
      log(`wrote bench/results.md (quick) in ${((performance.now() - started) / 1000).toFixed(0)} s`);
      return;
    }
    const food = await serviceRuns(build, (path) => images.url(path));
    log('tracing overhead: off against on at 100 % sampling…');
    const tracingSection = renderTracingOverhead(await tracing());
    log('explanation cost…');
    const explanationSection = await explanations();
    log('shadow traffic: off against on…');
    const shadowSection = await shadowCost();
    log('a bulk job beside interactive traffic…');
    const jobsSection = await jobsCost();
    const naive = await naiveRuns();
    log('float model: onnxruntime vs tfjs-WASM…');
    const mobilenet = FIXTURE_MODELS.mobilenetV2Tfjs;
    const float = {
      onnx: await floatEngine(build, 'onnxruntime'),
      tfjs: await floatEngine(build, 'tfjs'),
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
    const report = `${insertAfterFirstSection(renderReport(results), peerReport)}\n${tracingSection}\n${explanationSection}\n${shadowSection}\n${jobsSection}`;
    writeFileSync(join(__dirname, 'results.md'), report);
    process.stdout.write(`${report}\n`);
    log(`wrote ${join('bench', 'results.md')} in ${results.durationSeconds.toFixed(0)} s`);
  } finally {
    await images.close();
    build.remove();
  }
}

/** The peer comparison goes first, right after the report's heading and machine lines. */
function insertAfterFirstSection(report: string, section: string): string {
  const at = report.indexOf('\n## ');
  return at < 0 ? `${report}\n${section}` : `${report.slice(0, at + 1)}${section}\n${report.slice(at + 1)}`;
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
