import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  HAS_PROMETHEUS,
  PROMETHEUS_RULE_FILE,
  RULES_FILE,
  RULES_TEST_FILE,
  SKIP_PROMETHEUS_TESTS,
} from '../support/prometheus';

interface Rule {
  record?: string;
  alert?: string;
  expr: string;
}
interface AlertTest {
  alertname: string;
  exp_alerts: unknown[];
}

const groups = (parse(readFileSync(RULES_FILE, 'utf8')) as { groups: Array<{ rules: Rule[] }> }).groups;
const alerts = groups.flatMap((group) => group.rules).flatMap((rule) => (rule.alert ? [rule.alert] : []));

describe('deploy/prometheus rules', () => {
  it('are the same groups in the plain rules file and in the PrometheusRule', () => {
    const crd = parse(readFileSync(PROMETHEUS_RULE_FILE, 'utf8')) as {
      kind: string;
      apiVersion: string;
      spec: { groups: unknown };
    };
    expect(crd).toMatchObject({ kind: 'PrometheusRule', apiVersion: 'monitoring.coreos.com/v1' });
    expect(crd.spec.groups).toEqual(groups);
  });

  it('cover availability and latency burn rates, model readiness, worker crashes, the queue and image fetches', () => {
    expect(alerts.sort()).toEqual(
      [
        'FoodVisionAvailabilityBudgetBurnFast',
        'FoodVisionAvailabilityBudgetBurnSlow',
        'FoodVisionLatencyBudgetBurnFast',
        'FoodVisionLatencyBudgetBurnSlow',
        'FoodVisionModelNotReady',
        'FoodVisionInferenceWorkerCrashes',
        'FoodVisionQueueSaturated',
        'FoodVisionImageFetchFailing',
      ].sort(),
    );
  });

  it('has a unit test where each alert fires and one where it stays quiet', () => {
    const tests = (
      parse(readFileSync(RULES_TEST_FILE, 'utf8')) as {
        tests: Array<{ alert_rule_test: AlertTest[] }>;
      }
    ).tests.flatMap((test) => test.alert_rule_test);
    for (const alert of alerts) {
      const cases = tests.filter((test) => test.alertname === alert);
      expect(
        cases.some((test) => test.exp_alerts.length > 0),
        `${alert} fires somewhere`,
      ).toBe(true);
      expect(
        cases.some((test) => test.exp_alerts.length === 0),
        `${alert} stays quiet somewhere`,
      ).toBe(true);
    }
  });

  it('under CI=true, Prometheus is installed (.ci/run installs it)', () => {
    if (process.env.CI === 'true') expect(HAS_PROMETHEUS).toBe(true);
  });

  it.skipIf(SKIP_PROMETHEUS_TESTS)('pass promtool check rules and promtool test rules', () => {
    const plain = spawnSync('promtool', ['check', 'rules', RULES_FILE], { encoding: 'utf8' });
    expect(plain.stdout + plain.stderr).toMatch(/SUCCESS: \d+ rules found/);
    expect(plain.status).toBe(0);
    const test = spawnSync('promtool', ['test', 'rules', RULES_TEST_FILE], { encoding: 'utf8' });
    expect(test.stdout + test.stderr).toMatch(/SUCCESS/);
    expect(test.status).toBe(0);
  });
});
