import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addModelVersion } from '../../test/support/version-store';
import type { BuiltApp } from './build';
import { load } from './clients';
import type { LoadResult } from './load';
import { startServer } from './server';

const NAME = 'food101';
/** One request at a time: the machine has headroom (2 vCPU), so the copies run. */
export const SHADOW_IDLE_CONNECTIONS = 1;
/** The issue's load: 8 connections keep both workers busy, so most copies are shed. */
export const SHADOW_LIGHT_CONNECTIONS = 8;
/** Past saturation: every worker busy with interactive images, so copies must be shed. */
export const SHADOW_SATURATED_CONNECTIONS = 64;

const LOADS = [SHADOW_IDLE_CONNECTIONS, SHADOW_LIGHT_CONNECTIONS, SHADOW_SATURATED_CONNECTIONS];

interface Round {
  shadow: boolean;
  connections: number;
  result: LoadResult;
  /** Comparison runs made and shed during the round. */
  compared: number;
  shed: number;
}

export interface ShadowCostResult {
  seconds: number;
  rounds: Round[];
}

const sumOf = (metrics: string, name: string) =>
  [...metrics.matchAll(new RegExp(`^${name}\\{[^}]*\\} ([0-9.e+]+)`, 'gm'))].reduce(
    (sum, match) => sum + Number(match[1]),
    0,
  );

/**
 * Shadow traffic's cost to the clients: one server, a store with MobileNetV1 int8 as stable (1) and MobileNetV2 int8
 * as candidate (2), URL requests at SHADOW_LIGHT_CONNECTIONS and at SHADOW_SATURATED_CONNECTIONS, shadow off and on
 * (every request mirrored) in interleaved rounds. The budget: at the light load p50 and p99 within 10 % of off; at
 * saturation the copies are shed and primary req/s stays at least 0.9× off.
 */
export async function measureShadowCost(options: {
  app: BuiltApp;
  urls: string[];
  seconds: number;
  rounds: number;
  tmp: string;
  log: (line: string) => void;
}): Promise<ShadowCostResult> {
  const { app, urls, seconds, rounds, tmp, log } = options;
  const store = mkdtempSync(join(tmpdir(), 'bench-shadow-store-'));
  addModelVersion(store, NAME, '1');
  addModelVersion(store, NAME, '2', { v2: true });
  writeFileSync(join(store, NAME, 'rollout.json'), JSON.stringify({ stable: '1' }));
  const server = await startServer({
    entry: app.entry,
    env: { MODEL_STORE: store, DEFAULT_MODEL: NAME, IMAGE_FETCH_ALLOW_HOSTS: '127.0.0.1' },
    logFile: join(tmp, 'shadow.log'),
  });
  const setShadow = async (on: boolean) => {
    const response = await fetch(`${server.baseUrl}/v1/models/${NAME}/rollout`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(on ? { candidate: '2', mode: 'shadow', weight: 100 } : {}),
    });
    if (!response.ok) throw new Error(`PUT rollout: ${response.status} ${await response.text()}`);
  };
  const counters = async () => {
    const metrics = await (await fetch(`${server.baseUrl}/metrics`)).text();
    return {
      compared: sumOf(metrics, 'food_vision_rollout_comparisons_total'),
      shed: sumOf(metrics, 'food_vision_rollout_shed_total'),
    };
  };
  const job = (connections: number, duration: number) =>
    load({ kind: 'post', url: `${server.baseUrl}/v1/predictions`, connections, bodies: { urls }, duration });
  const measured: Round[] = [];
  try {
    await job(SHADOW_LIGHT_CONNECTIONS, 3);
    for (let round = 1; round <= rounds; round++) {
      for (const connections of LOADS) {
        for (const shadow of [false, true]) {
          await setShadow(shadow);
          const before = await counters();
          const result = await job(connections, seconds);
          // Copies still queued finish (or are shed) before the counters are read.
          await new Promise((resolve) => setTimeout(resolve, 500));
          const after = await counters();
          measured.push({
            shadow,
            connections,
            result,
            compared: after.compared - before.compared,
            shed: after.shed - before.shed,
          });
          log(
            `shadow ${shadow ? 'on ' : 'off'} at ${connections} connections, round ${round}: ${result.requestsPerSecond.toFixed(1)} req/s, p50 ${result.p50} ms, p99 ${result.p99} ms, ${after.compared - before.compared} compared, ${after.shed - before.shed} shed`,
          );
        }
      }
    }
    await setShadow(false);
    return { seconds, rounds: measured };
  } finally {
    await server.stop();
    rmSync(store, { recursive: true, force: true });
  }
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

/** The markdown section for bench/results.md. */
export function renderShadowCost(result: ShadowCostResult): string {
  const rows: string[] = [];
  for (const connections of LOADS) {
    const of = (shadow: boolean) =>
      result.rounds.filter((round) => round.connections === connections && round.shadow === shadow);
    const off = of(false);
    const offRps = median(off.map((round) => round.result.requestsPerSecond));
    const offP50 = median(off.map((round) => round.result.p50));
    const offP99 = median(off.map((round) => round.result.p99));
    for (const shadow of [false, true]) {
      const rounds = of(shadow);
      const rps = median(rounds.map((round) => round.result.requestsPerSecond));
      const p50 = median(rounds.map((round) => round.result.p50));
      const p99 = median(rounds.map((round) => round.result.p99));
      const compared = rounds.reduce((sum, round) => sum + round.compared, 0);
      const shed = rounds.reduce((sum, round) => sum + round.shed, 0);
      const total = rounds.reduce((sum, round) => sum + round.result.total, 0);
      rows.push(
        `| ${connections} | ${shadow ? 'on (100 %)' : 'off'} | ${rps.toFixed(1)} | ${(rps / offRps).toFixed(3)} | ${p50} (${(p50 / offP50).toFixed(2)}×) | ${p99} (${(p99 / offP99).toFixed(2)}×) | ${shadow ? `${compared} of ${total}` : '–'} | ${shadow ? shed : '–'} |`,
      );
    }
  }
  return [
    `## Shadow traffic's cost (URL route, MobileNetV1 int8 stable, MobileNetV2 int8 candidate)`,
    '',
    `One server; rounds of ${result.seconds} s, shadow off and on interleaved (on: every request mirrored to the candidate in the background lane, at most ROLLOUT_MIRROR_MAX_IN_FLIGHT at once). A copy starts only when both versions have a worker nobody waits for (each version has its own pool, so one's background lane cannot see the other's queue); otherwise it is shed as busy. The budget: p50 and p99 within 10 % of off where the machine has headroom; at saturation the copies are shed and req/s stays at least 0.9× off.`,
    '',
    '| connections | shadow | median req/s | req/s vs off | median p50 ms (vs off) | median p99 ms (vs off) | copies compared | copies shed |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}
