import type { BatchCost } from './batching';
import type { CeilingResult } from './ceiling';
import type { LoadResult } from './load';
import type { Machine } from './machine';

export interface FloatEngineResult {
  engine: string;
  ceiling: CeilingResult;
  /** Ceilings with other worker × thread layouts. */
  otherLayouts: CeilingResult[];
  /** Upload route at 1 and 16 connections. */
  service: LoadResult[];
}

/** One saturation round: the ceiling measured just before, then 64 connections with a liveness probe beside them. */
export interface SaturationRound {
  ceiling: CeilingResult;
  service: LoadResult;
  liveness: LoadResult;
}

export interface BenchResults {
  machine: Machine;
  seconds: number;
  /** Ceilings with fewer workers than cores, for the layout comparison. */
  layouts: CeilingResult[];
  service: { upload: LoadResult[]; url: LoadResult[] };
  saturation: SaturationRound[];
  rss: { idle: number; before: number; after: number; requests: number; run: LoadResult };
  naive: { run: LoadResult; liveness: LoadResult };
  float: { onnx: FloatEngineResult; tfjs: FloatEngineResult; batching: BatchCost[] };
  durationSeconds: number;
  /** 1-minute load average when the run started and ended: other processes share these cores. */
  loadAverage: { start: number; end: number };
}

const fixed = (value: number, digits = 1) => value.toFixed(digits);
const ms = (value: number) => `${fixed(value, value < 10 ? 1 : 0)} ms`;
const best = <T>(items: T[], value: (item: T) => number): T =>
  items.reduce((a, b) => (value(b) > value(a) ? b : a));

function failures(result: LoadResult): string {
  const bad = Object.entries(result.statuses).filter(([code]) => code !== '200');
  const parts = bad.map(([code, count]) => `${count}× ${code}`);
  if (result.errors > 0) parts.push(`${result.errors} errors`);
  return parts.length > 0 ? parts.join(', ') : '0';
}

function loadRow(route: string, r: LoadResult): string {
  return `| ${route} | ${r.connections} | ${fixed(r.requestsPerSecond)} | ${ms(r.p50)} | ${ms(r.p90)} | ${ms(r.p99)} | ${r.total} | ${failures(r)} |`;
}

function ceilingRow(label: string, c: CeilingResult): string {
  return `| ${label} | ${c.workers} × ${c.threadsPerWorker} | ${c.engine} | ${fixed(c.imagesPerSecond)} | ${ms(c.decodeMs)} | ${ms(c.inferenceMs)} |`;
}

/** The whole run as Markdown: machine, the six measurements, the ratios and the targets. */
export function renderReport(results: BenchResults): string {
  const { machine, service, saturation, layouts, rss, naive, float } = results;
  const ceiling = best(
    saturation.map((round) => round.ceiling),
    (c) => c.imagesPerSecond,
  );
  // Each round measures the ceiling, then the service, back to back: compare within rounds, take the median.
  const roundRatios = saturation.map(
    (round) => round.service.requestsPerSecond / round.ceiling.imagesPerSecond,
  );
  const serviceVsCeiling = [...roundRatios].sort((a, b) => a - b)[Math.floor(roundRatios.length / 2)];
  const saturated = best(
    saturation.map((round) => round.service),
    (r) => r.requestsPerSecond,
  );
  const liveness = best(
    saturation.map((round) => round.liveness),
    (r) => r.p99,
  );
  const busiest = service.upload[service.upload.length - 1];
  const cpu = busiest.cpuPerRequest ?? { processMs: NaN, mainThreadMs: NaN };
  const bestUrl = best(service.url, (r) => r.requestsPerSecond);
  const bestUpload = best([...service.upload, saturated], (r) => r.requestsPerSecond);
  const serviceVsNaive = bestUpload.requestsPerSecond / naive.run.requestsPerSecond;
  const floatBest = best(float.onnx.service, (r) => r.requestsPerSecond);
  const floatVsNaive = floatBest.requestsPerSecond / naive.run.requestsPerSecond;
  const rssGrowth = rss.after / rss.before - 1;
  const allRuns = [...service.upload, ...service.url, ...saturation.map((round) => round.service), rss.run];
  const bad = allRuns.reduce((sum, r) => sum + (r.total - (r.statuses['200'] ?? 0)) + r.errors, 0);
  const bad503 = allRuns.reduce((sum, r) => sum + (r.statuses['503'] ?? 0), 0);
  const met = (ok: boolean) => (ok ? 'met' : '**not met**');

  const lines = [
    '# Throughput benchmark',
    '',
    `Measured by \`npm run bench\` (bench/run.ts) on ${machine.date}, commit ${machine.commit}, in ${fixed(results.durationSeconds, 0)} s.`,
    '',
    `- Machine: ${machine.cpu}, ${machine.vcpus} vCPU, ${machine.memoryGiB} GiB, ${machine.kernel}, Node ${machine.node}.`,
    '- Service: the built app (`nest build`) with default settings (one inference worker per vCPU × 1 engine thread, queue 64,',
    '  JSON request logs on) serving the Food-101 TFLite fixture (MobileNetV1 0.5 int8, 224×224) on LiteRT.',
    '  The load generator (autocannon) runs on the same machine in its own process at nice 19, so it takes only the CPU the',
    '  server leaves, as one on another machine would; the image server for the URL route runs in the bench process.',
    `- Load average (1 min) from other processes: ${fixed(results.loadAverage.start, 2)} at the start, ${fixed(results.loadAverage.end, 2)} at the end.`,
    `- Photos: the 13 real photos of ../shared/images/food (204×114 to 1200×1200 JPEG), in turn. Each timed run lasts ${results.seconds} s.`,
    '',
    '## 1. Ceiling: decode + resize + inference in a tight loop, no HTTP',
    '',
    'The compiled workers the server runs, warmed, then driven directly with two images in flight per worker. The same',
    'workers are measured just before each saturation round (sections 2 and 4), while the server idles.',
    '',
    '| run | workers × engine threads | engine | images/s | decode + resize per image | inference per image |',
    '| --- | --- | --- | --- | --- | --- |',
    ...saturation.map((round, i) => ceilingRow(`round ${i + 1}`, round.ceiling)),
    ...layouts.map((c) => ceilingRow('one worker', c)),
    '',
    '## 2. The service over HTTP',
    '',
    '| route | connections | requests/s | p50 | p90 | p99 | requests | non-200 |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...service.upload.map((r) => loadRow('upload (multipart)', r)),
    ...service.url.map((r) => loadRow('URL (local image server)', r)),
    ...saturation.map((round, i) => loadRow(`upload, round ${i + 1}`, round.service)),
    '',
    `CPU per request (upload, ${busiest.connections} connections): ${ms(cpu.processMs)} for the whole server, of which ${ms(cpu.mainThreadMs)} on the event-loop thread (HTTP, multipart, JSON, logs); the rest is decode and inference in the workers and libvips threads.`,
    '',
    '## 3. The naive port (jimp + tfjs pure-JS, one request at a time, TF.js MobileNetV2)',
    '',
    '| | requests/s | p50 | p99 | /health/live p99 meanwhile |',
    '| --- | --- | --- | --- | --- |',
    `| naive | ${fixed(naive.run.requestsPerSecond, 2)} | ${ms(naive.run.p50)} | ${ms(naive.run.p99)} | ${ms(naive.liveness.p99)} |`,
    '',
    '## 4. Liveness while saturated',
    '',
    '`GET /health/live` from another process (as kubelet would), one connection, 50 times a second, while 64 connections upload photos:',
    '',
    '| round | service requests/s | probe p50 | probe p90 | probe p99 | probes | failed |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...saturation.map(
      (round, i) =>
        `| ${i + 1} | ${fixed(round.service.requestsPerSecond)} | ${ms(round.liveness.p50)} | ${ms(round.liveness.p90)} | ${ms(round.liveness.p99)} | ${round.liveness.total} | ${failures(round.liveness)} |`,
    ),
    '',
    '## 5. Memory',
    '',
    '| | RSS |',
    '| --- | --- |',
    `| idle, model loaded in every worker | ${fixed(rss.idle, 0)} MiB |`,
    `| after warm-up and the runs above | ${fixed(rss.before, 0)} MiB |`,
    `| after ${rss.requests} more requests (upload, 16 connections, ${fixed(rss.run.requestsPerSecond)} req/s, ${failures(rss.run)} non-200) | ${fixed(rss.after, 0)} MiB (${rssGrowth >= 0 ? '+' : ''}${fixed(rssGrowth * 100)} %) |`,
    '',
    '## 6. A float model: TF.js MobileNetV2 on onnxruntime (converted at load) vs tfjs-WASM',
    '',
    '| engine | ceiling images/s (no HTTP) | inference per image | upload c=1 req/s | p50 | upload c=16 req/s | p99 |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...[float.onnx, float.tfjs].map(
      (f) =>
        `| ${f.engine} | ${fixed(f.ceiling.imagesPerSecond)} | ${ms(f.ceiling.inferenceMs)} | ${fixed(f.service[0].requestsPerSecond)} | ${ms(f.service[0].p50)} | ${fixed(f.service[1].requestsPerSecond)} | ${ms(f.service[1].p99)} |`,
    ),
    '',
    ...float.onnx.otherLayouts.map(
      (c) =>
        `Layout: onnxruntime with ${c.workers} worker × ${c.threadsPerWorker} threads gives ${fixed(c.imagesPerSecond)} images/s (${ms(c.inferenceMs)} inference per image), against ${fixed(float.onnx.ceiling.imagesPerSecond)} with ${float.onnx.ceiling.workers} workers × 1 thread.`,
    ),
    '',
    `onnxruntime ÷ tfjs-WASM: ${fixed(float.onnx.ceiling.imagesPerSecond / float.tfjs.ceiling.imagesPerSecond)}× (ceiling), ${fixed(float.onnx.service[1].requestsPerSecond / float.tfjs.service[1].requestsPerSecond)}× (service, 16 connections).`,
    ...(float.batching.length === 2
      ? [
          '',
          `Batching check (onnxruntime, 1 thread, converted MobileNetV2): ${ms(float.batching[0].msPerImage)} per image at batch 1, ${ms(float.batching[1].msPerImage)} per image at batch 8.`,
        ]
      : []),
    '',
    '## Ratios',
    '',
    `- service ÷ ceiling: **${fixed(serviceVsCeiling, 2)}**, the median of the rounds' ratios (${roundRatios.map((r) => fixed(r, 2)).join(', ')}): each round's upload run at 64 connections ÷ the ceiling measured just before it. The best ceiling was ${fixed(ceiling.imagesPerSecond)} images/s; the best upload run ${fixed(bestUpload.requestsPerSecond)} req/s (${bestUpload.connections} connections) and the best URL run ${fixed(bestUrl.requestsPerSecond)} req/s (${bestUrl.connections} connections).`,
    `- service ÷ naive: **${fixed(serviceVsNaive, 0)}×** (${fixed(bestUpload.requestsPerSecond)} ÷ ${fixed(naive.run.requestsPerSecond, 2)} req/s; the service's Food-101 TFLite against the naive TF.js MobileNetV2).`,
    `- same model (TF.js MobileNetV2): the service on onnxruntime ÷ naive = **${fixed(floatVsNaive, 0)}×** (${fixed(floatBest.requestsPerSecond)} ÷ ${fixed(naive.run.requestsPerSecond, 2)} req/s).`,
    '',
    '## Targets',
    '',
    '| target | measured | |',
    '| --- | --- | --- |',
    `| service ≥ 0.9 × ceiling at saturation (median round) | ${fixed(serviceVsCeiling, 2)} | ${met(serviceVsCeiling >= 0.9)} |`,
    `| /health/live p99 < 50 ms while saturated (worst round) | ${ms(liveness.p99)} | ${met(liveness.p99 < 50)} |`,
    `| RSS growth < 10 % over ${rss.requests} requests | ${fixed(rssGrowth * 100)} % | ${met(rssGrowth < 0.1)} |`,
    `| no failures but 503s of a full queue | ${bad} non-200 (${bad503} × 503) | ${met(bad === bad503)} |`,
    '',
  ];
  return lines.join('\n');
}
