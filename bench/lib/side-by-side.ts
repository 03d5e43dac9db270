import { loadavg } from 'node:os';
import { hey, type HeyResult } from './hey';

export interface Contender {
  name: string;
  baseUrl: string;
  /** CPU seconds used so far by all its processes and threads. */
  cpu(): number;
}

export interface SideBySideRound extends HeyResult {
  contender: string;
  photo: string;
  round: number;
  /** 1-minute load average just before the round (other work on the machine). */
  loadBefore: number;
  cpuMsPerRequest: number;
}

/**
 * Rounds alternating A B A B …: for each photo and concurrency, `rounds` rounds of each contender in turn, with
 * the same generator (`hey` at nice 19), so both see the same machine as it drifts.
 */
export async function sideBySide(options: {
  contenders: Contender[];
  photos: Array<{ name: string; body: { file: string; contentType: string } }>;
  concurrencies: number[];
  rounds: number;
  seconds: number;
  log: (line: string) => void;
}): Promise<SideBySideRound[]> {
  const rows: SideBySideRound[] = [];
  for (const photo of options.photos) {
    for (const connections of options.concurrencies) {
      for (let round = 1; round <= options.rounds; round++) {
        for (const contender of options.contenders) {
          const loadBefore = loadavg()[0];
          const cpuBefore = contender.cpu();
          const result = await hey({
            url: `${contender.baseUrl}/v1/predictions`,
            body: photo.body,
            connections,
            seconds: options.seconds,
          });
          const cpuMsPerRequest = ((contender.cpu() - cpuBefore) * 1000) / Math.max(1, result.total);
          options.log(
            `${photo.name} c=${connections} round ${round} ${contender.name}: ${result.requestsPerSecond.toFixed(1)} req/s, p50 ${result.p50.toFixed(1)} ms, ${cpuMsPerRequest.toFixed(1)} ms CPU/req, load ${loadBefore.toFixed(2)}`,
          );
          rows.push({
            ...result,
            contender: contender.name,
            photo: photo.name,
            round,
            loadBefore,
            cpuMsPerRequest,
          });
        }
      }
    }
  }
  return rows;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

export interface SideBySideSummary {
  photo: string;
  connections: number;
  /** Per contender: median req/s, p50 and CPU ms per request over its rounds, and the rounds' req/s. */
  by: Record<string, { rps: number; p50: number; cpuMs: number; rounds: number[]; non200: number }>;
}

export function summarise(rows: SideBySideRound[]): SideBySideSummary[] {
  const groups = new Map<string, SideBySideRound[]>();
  for (const row of rows) {
    const key = `${row.photo}\u0000${row.connections}`;
    groups.set(key, [...(groups.get(key) ?? []), row]);
  }
  return [...groups.values()].map((group) => {
    const by: SideBySideSummary['by'] = {};
    for (const name of new Set(group.map((row) => row.contender))) {
      const mine = group.filter((row) => row.contender === name);
      by[name] = {
        rps: median(mine.map((row) => row.requestsPerSecond)),
        p50: median(mine.map((row) => row.p50)),
        cpuMs: median(mine.map((row) => row.cpuMsPerRequest)),
        rounds: mine.map((row) => row.requestsPerSecond),
        non200: mine.reduce((sum, row) => sum + row.non200, 0),
      };
    }
    return { photo: group[0].photo, connections: group[0].connections, by };
  });
}
