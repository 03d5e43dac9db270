import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { buildApp, type BuiltApp } from './build';
import { load } from './clients';
import type { LoadResult } from './load';
import { startServer, type RunningServer } from './server';

const ROOT = join(__dirname, '..', '..');
export const TRACING_CONNECTIONS = 32;
const WARM_SECONDS = 5;

export interface TracingContender {
  name: 'tracing off' | 'tracing on (100 %)' | 'previous commit';
  rounds: LoadResult[];
  /** CPU milliseconds the server process spent per request, per round. */
  cpuMsPerRequest: number[];
}

export interface TracingOverheadResult {
  connections: number;
  seconds: number;
  contenders: TracingContender[];
  /** What the service sent to the collector while traced. */
  collector: { requests: number; bytes: number };
  baselineRef?: string;
}

/** A collector that takes every OTLP/HTTP export and answers 200, counting what it got (decoding nothing). */
async function startSink(): Promise<{
  endpoint: string;
  counts: { requests: number; bytes: number };
  server: Server;
}> {
  const counts = { requests: 0, bytes: 0 };
  const server = createServer((request, response) => {
    request.on('data', (chunk: Buffer) => (counts.bytes += chunk.length));
    request.on('end', () => {
      counts.requests++;
      response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { endpoint: `http://127.0.0.1:${(server.address() as { port: number }).port}`, counts, server };
}

/** `ref` built from a git worktree that borrows this checkout's node_modules. */
async function buildRef(ref: string): Promise<{ app: BuiltApp; remove(): void }> {
  const tree = mkdtempSync(join(tmpdir(), 'food-vision-baseline-'));
  execFileSync('git', ['worktree', 'add', '--detach', tree, ref], { cwd: ROOT, stdio: 'ignore' });
  const remove = () => {
    rmSync(join(tree, 'node_modules'), { force: true });
    execFileSync('git', ['worktree', 'remove', '--force', tree], { cwd: ROOT });
  };
  try {
    symlinkSync(join(ROOT, 'node_modules'), join(tree, 'node_modules'));
    const app = await buildApp(tree);
    return {
      app,
      remove: () => {
        app.remove();
        remove();
      },
    };
  } catch (error) {
    remove();
    throw error;
  }
}

/**
 * Req/s at TRACING_CONNECTIONS connections on the URL route (the route with the most spans: fetch, hop, connect,
 * queue, worker stages), tracing off against tracing on with every request sampled and exported to a local
 * collector, and, when `baselineRef` is given, against that commit's build: rounds interleaved, so drift on a
 * shared machine touches every contender alike.
 */
export async function measureTracingOverhead(options: {
  app: BuiltApp;
  env: Record<string, string>;
  urls: string[];
  seconds: number;
  rounds: number;
  tmp: string;
  baselineRef?: string;
  log: (line: string) => void;
}): Promise<TracingOverheadResult> {
  const { app, env, urls, seconds, rounds, tmp, baselineRef, log } = options;
  const sink = await startSink();
  const baseline = baselineRef === undefined ? undefined : await buildRef(baselineRef);
  const servers: Array<{ name: TracingContender['name']; server: RunningServer }> = [];
  try {
    const start = async (name: TracingContender['name'], entry: string, extra: Record<string, string>) => {
      const logFile = join(tmp, `tracing-${servers.length}.log`);
      servers.push({ name, server: await startServer({ entry, env: { ...env, ...extra }, logFile }) });
    };
    await start('tracing off', app.entry, {});
    await start('tracing on (100 %)', app.entry, {
      OTEL_EXPORTER_OTLP_ENDPOINT: sink.endpoint,
      OTEL_TRACES_SAMPLER: 'always_on',
    });
    if (baseline) await start('previous commit', baseline.app.entry, {});
    const contenders: TracingContender[] = servers.map(({ name }) => ({
      name,
      rounds: [],
      cpuMsPerRequest: [],
    }));
    const job = (server: RunningServer, duration: number) =>
      load({
        kind: 'post',
        url: `${server.baseUrl}/v1/predictions`,
        connections: TRACING_CONNECTIONS,
        bodies: { urls },
        duration,
      });
    for (const { server } of servers) await job(server, WARM_SECONDS);
    for (let round = 1; round <= rounds; round++) {
      for (const [index, { name, server }] of servers.entries()) {
        const cpuBefore = server.cpu().process;
        const result = await job(server, seconds);
        const cpuMs = ((server.cpu().process - cpuBefore) * 1000) / Math.max(1, result.total);
        contenders[index].rounds.push(result);
        contenders[index].cpuMsPerRequest.push(cpuMs);
        log(
          `tracing round ${round}, ${name}: ${result.requestsPerSecond.toFixed(1)} req/s, p99 ${result.p99} ms, ${cpuMs.toFixed(2)} CPU ms/request`,
        );
      }
    }
    return {
      connections: TRACING_CONNECTIONS,
      seconds,
      contenders,
      collector: { ...sink.counts },
      ...(baselineRef !== undefined
        ? {
            baselineRef: execFileSync('git', ['rev-parse', '--short', baselineRef], { cwd: ROOT })
              .toString()
              .trim(),
          }
        : {}),
    };
  } finally {
    for (const { server } of servers) await server.stop();
    sink.server.close();
    baseline?.remove();
  }
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

/** The markdown section for bench/results.md. */
export function renderTracingOverhead(result: TracingOverheadResult): string {
  const off = median(result.contenders[0].rounds.map((round) => round.requestsPerSecond));
  const offCpu = median(result.contenders[0].cpuMsPerRequest);
  const rows = result.contenders.map(({ name, rounds, cpuMsPerRequest }) => {
    const rps = median(rounds.map((round) => round.requestsPerSecond));
    const p99 = median(rounds.map((round) => round.p99));
    const cpu = median(cpuMsPerRequest);
    const label = name === 'previous commit' ? `previous commit (${result.baselineRef})` : name;
    return `| ${label} | ${rounds.map((round) => round.requestsPerSecond.toFixed(1)).join(', ')} | ${rps.toFixed(1)} | ${(rps / off).toFixed(3)} | ${p99} | ${cpu.toFixed(2)} | ${(cpu / offCpu).toFixed(3)} |`;
  });
  return [
    `## Tracing overhead (URL route, ${result.connections} connections)`,
    '',
    `Each contender is its own server process; rounds of ${result.seconds} s are interleaved. "On" samples every request and exports every span over OTLP/HTTP protobuf to a collector on this machine (${result.collector.requests} exports, ${(result.collector.bytes / 1024 / 1024).toFixed(1)} MiB). The budget: on costs at most 10 % of req/s; off, nothing measurable.`,
    '',
    '| contender | req/s per round | median req/s | req/s vs off | median p99 (ms) | server CPU ms per request | CPU vs off |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}
