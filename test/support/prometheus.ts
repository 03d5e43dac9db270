import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './deploy-files';
import { freePort } from './free-port';

/** Debian's prometheus package: `prometheus` and `promtool` (.ci/run installs it). */
export const HAS_PROMETHEUS =
  spawnSync('prometheus', ['--version']).status === 0 && spawnSync('promtool', ['--version']).status === 0;
/** Under CI=true a missing Prometheus fails its tests instead of skipping them. */
export const SKIP_PROMETHEUS_TESTS = !HAS_PROMETHEUS && process.env.CI !== 'true';

export const RULES_FILE = join(ROOT, 'deploy', 'prometheus', 'food-vision-rules.yaml');
export const RULES_TEST_FILE = join(ROOT, 'deploy', 'prometheus', 'tests', 'food-vision-rules.test.yaml');
export const PROMETHEUS_RULE_FILE = join(ROOT, 'deploy', 'prometheus', 'prometheusrule.yaml');
export const DASHBOARD_FILE = join(ROOT, 'deploy', 'grafana', 'food-vision-dashboard.json');

export interface RunningPrometheus {
  url: string;
  /** The exemplars Prometheus stored for `expr` over the last `seconds` (needs `exemplars: true`). */
  queryExemplars(
    expr: string,
    seconds?: number,
  ): Promise<
    Array<{
      seriesLabels: Record<string, string>;
      exemplars: Array<{ labels: Record<string, string>; value: string }>;
    }>
  >;
  /** An instant query through the HTTP API: the result vector (status must be success). */
  query(expr: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>>;
  stop(): Promise<void>;
}

/**
 * A real Prometheus on 127.0.0.1 with a temporary data folder, scraping `target` (host:port) every second and
 * evaluating `RULES_FILE` every second.
 */
export async function startPrometheus(
  target: string,
  options: { exemplars?: boolean } = {},
): Promise<RunningPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'prometheus-'));
  const config = join(dir, 'prometheus.yml');
  writeFileSync(
    config,
    [
      'global: { scrape_interval: 1s, evaluation_interval: 1s }',
      `rule_files: ['${RULES_FILE}']`,
      'scrape_configs:',
      '  - job_name: food-vision-api',
      `    static_configs: [{ targets: ['${target}'] }]`,
    ].join('\n'),
  );
  const port = await freePort();
  const child: ChildProcess = spawn(
    'prometheus',
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
      ...(options.exemplars ? ['--enable-feature=exemplar-storage'] : []),
    ],
    { stdio: 'ignore' },
  );
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    child.kill('SIGTERM');
    await new Promise((resolve) =>
      child.exitCode !== null ? resolve(undefined) : child.once('exit', resolve),
    );
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    const ready = await fetch(`${url}/-/ready`).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error('Prometheus did not start.');
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    queryExemplars: async (expr, seconds = 600) => {
      const end = Date.now() / 1000;
      const response = await fetch(
        `${url}/api/v1/query_exemplars?query=${encodeURIComponent(expr)}&start=${end - seconds}&end=${end + 60}`,
      );
      const body = (await response.json()) as { status: string; data: never; error?: string };
      if (body.status !== 'success') throw new Error(`query_exemplars ${expr}: ${body.error}`);
      return body.data;
    },
    query: async (expr) => {
      const response = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`);
      const body = (await response.json()) as {
        status: string;
        error?: string;
        data?: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
      };
      if (body.status !== 'success') throw new Error(`${expr}: ${body.error ?? response.status}`);
      return body.data!.result;
    },
    stop,
  };
}
