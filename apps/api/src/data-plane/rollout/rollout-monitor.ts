import { Injectable, Logger } from '@nestjs/common';
import { Counter, Histogram, Registry } from 'prom-client';
import { ModelRegistry, type RolloutView } from '@app/inference';
import { METRIC_PREFIX } from '../../observability/metrics-registry';
import { ComparisonStats, rate, type Traffic, type VersionRuns } from './comparison-stats';

/** One version's answer to an image: its top-1 class and probability, and whether it abstained. */
export interface VersionAnswer {
  label: string;
  confidence: number;
  abstained: boolean;
}

export interface RolloutReport {
  model: string;
  possible: boolean;
  policy: RolloutView['policy'];
  stable?: string;
  candidate?: { version: string; status: string };
  since?: string;
  comparisons: Record<
    Traffic,
    {
      compared: number;
      agreement: number | null;
      mean_abs_confidence_delta: number | null;
      disagreements: Array<{ stable: string; candidate: string; count: number }>;
    }
  >;
  versions: Array<{
    version: string;
    role: 'stable' | 'candidate';
    runs: number;
    errors: number;
    error_rate: number;
    abstentions: number;
    abstention_rate: number;
  }>;
  shed: number;
  last_rollback?: { at: string; version: string; reason: string };
}

const TOP_DISAGREEMENTS = 10;
const round = (value: number) => Number(value.toFixed(6));

/**
 * Measures a rollout: per model, what the stable version and the candidate answered for the same images (top-1
 * agreement, |Δ top-1 probability|, the most frequent disagreements), each version's error and abstention rates,
 * and the shadow work shed. Ends the rollout by itself when its policy's auto_rollback says so; never promotes.
 */
@Injectable()
export class RolloutMonitor {
  private readonly logger = new Logger(RolloutMonitor.name);
  private readonly stats = new Map<string, ComparisonStats>();
  private readonly rollbacks = new Map<string, NonNullable<RolloutReport['last_rollback']>>();
  private readonly comparisons: Counter<'model' | 'stable' | 'candidate' | 'traffic' | 'outcome'>;
  private readonly delta: Histogram<'model' | 'stable' | 'candidate' | 'traffic'>;
  private readonly runs: Counter<'model' | 'version' | 'role' | 'outcome'>;
  private readonly shedCounter: Counter<'model' | 'reason'>;
  private readonly rollbackCounter: Counter<'model' | 'reason'>;

  constructor(
    registry: Registry,
    private readonly models: ModelRegistry,
  ) {
    const registers = [registry];
    this.comparisons = new Counter({
      name: `${METRIC_PREFIX}rollout_comparisons_total`,
      help: 'Images classified by both the stable version and the candidate, by traffic (canary, shadow) and outcome (agree, disagree on the top-1 class).',
      labelNames: ['model', 'stable', 'candidate', 'traffic', 'outcome'],
      registers,
    });
    this.delta = new Histogram({
      name: `${METRIC_PREFIX}rollout_confidence_delta`,
      help: '|stable top-1 probability − candidate top-1 probability| of each compared image.',
      labelNames: ['model', 'stable', 'candidate', 'traffic'],
      buckets: [0.01, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1],
      registers,
    });
    this.runs = new Counter({
      name: `${METRIC_PREFIX}rollout_runs_total`,
      help: 'Images each version of a model under rollout classified (answers and mirrored runs), by role and outcome (ok, abstained, error).',
      labelNames: ['model', 'version', 'role', 'outcome'],
      registers,
    });
    this.shedCounter = new Counter({
      name: `${METRIC_PREFIX}rollout_shed_total`,
      help: 'Comparison runs not made, by reason: no idle worker when the answer came (busy), the background lane was full (overloaded), or ROLLOUT_MIRROR_MAX_IN_FLIGHT was reached (cap).',
      labelNames: ['model', 'reason'],
      registers,
    });
    this.rollbackCounter = new Counter({
      name: `${METRIC_PREFIX}rollout_rollbacks_total`,
      help: 'Rollouts ended: automatically (agreement, error_rate) or through the API (api).',
      labelNames: ['model', 'reason'],
      registers,
    });
  }

  /** A version's own run: an answer (with its abstention) or a failure. */
  recordRun(model: string, version: string, answer: VersionAnswer | 'error'): void {
    const stats = this.statsFor(model);
    if (!stats) return;
    const role = version === stats.candidateVersion ? 'candidate' : 'stable';
    const runs: VersionRuns = stats[role];
    runs.runs++;
    if (answer === 'error') runs.errors++;
    else if (answer.abstained) runs.abstentions++;
    const outcome = answer === 'error' ? 'error' : answer.abstained ? 'abstained' : 'ok';
    this.runs.inc({ model, version, role, outcome });
    this.judge(model, stats);
  }

  /** The two versions' answers to one image. */
  recordComparison(model: string, traffic: Traffic, stable: VersionAnswer, candidate: VersionAnswer): void {
    const stats = this.statsFor(model);
    if (!stats) return;
    stats.compare(traffic, stable, candidate);
    const labels = { model, stable: stats.stableVersion, candidate: stats.candidateVersion, traffic };
    this.comparisons.inc({ ...labels, outcome: stable.label === candidate.label ? 'agree' : 'disagree' });
    this.delta.observe(labels, Math.abs(stable.confidence - candidate.confidence));
    this.judge(model, stats);
  }

  recordShed(model: string, reason: 'overloaded' | 'cap' | 'busy'): void {
    const stats = this.statsFor(model);
    if (stats) stats.shed++;
    this.shedCounter.inc({ model, reason });
  }

  /** Counts a rollback asked through the API. */
  noteManualRollback(model: string, version: string | undefined): void {
    this.rollbackCounter.inc({ model, reason: 'api' });
    if (version !== undefined)
      this.rollbacks.set(model, { at: new Date().toISOString(), version, reason: 'asked through the API' });
  }

  report(name: string): RolloutReport {
    const view = this.models.rollout(name);
    const stats = this.statsFor(name);
    const comparison = (traffic: Traffic) => {
      const measured = stats?.traffic[traffic];
      const compared = measured?.compared ?? 0;
      return {
        compared,
        agreement: measured && compared > 0 ? round(measured.agreed / compared) : null,
        mean_abs_confidence_delta:
          measured && compared > 0 ? round(measured.confidenceDelta / compared) : null,
        disagreements: [...(measured?.disagreements ?? new Map<string, number>())]
          .map(([pair, count]) => {
            const [stable, candidate] = pair.split('\u0000');
            return { stable, candidate, count };
          })
          .sort((a, b) => b.count - a.count || a.stable.localeCompare(b.stable))
          .slice(0, TOP_DISAGREEMENTS),
      };
    };
    const version = (role: 'stable' | 'candidate', version: string, runs: VersionRuns) => ({
      version,
      role,
      runs: runs.runs,
      errors: runs.errors,
      error_rate: round(rate(runs.errors, runs.runs)),
      abstentions: runs.abstentions,
      abstention_rate: round(rate(runs.abstentions, runs.runs)),
    });
    const rollback = this.rollbacks.get(name);
    return {
      model: name,
      possible: view.possible,
      policy: view.policy,
      ...(view.stable !== undefined ? { stable: view.stable } : {}),
      ...(view.candidate
        ? { candidate: { version: view.candidate.version, status: view.candidate.state.status } }
        : {}),
      ...(stats ? { since: stats.since.toISOString() } : {}),
      comparisons: { canary: comparison('canary'), shadow: comparison('shadow') },
      versions: stats
        ? [
            version('stable', stats.stableVersion, stats.stable),
            version('candidate', stats.candidateVersion, stats.candidate),
          ]
        : [],
      shed: stats?.shed ?? 0,
      ...(rollback ? { last_rollback: rollback } : {}),
    };
  }

  /** The pair under trial now; measurements start over when the stable version or the candidate changes. */
  private statsFor(model: string): ComparisonStats | undefined {
    // Asked on every image of a rollout: a map lookup first, the rollout's view only while a candidate serves.
    const candidate = this.models.candidateVersion(model);
    const stable = candidate === undefined ? undefined : this.models.rollout(model).stable;
    if (stable === undefined || candidate === undefined) return undefined;
    let stats = this.stats.get(model);
    if (!stats || stats.stableVersion !== stable || stats.candidateVersion !== candidate) {
      stats = new ComparisonStats(stable, candidate);
      this.stats.set(model, stats);
    }
    return stats;
  }

  /** Automatic rollback: after min_compared comparisons, agreement under min_agreement or too many errors. */
  private judge(model: string, stats: ComparisonStats): void {
    const policy = this.models.rollout(model).policy.auto_rollback;
    if (!policy || stats.compared < policy.min_compared) return;
    const candidateErrors = rate(stats.candidate.errors, stats.candidate.runs);
    const stableErrors = rate(stats.stable.errors, stats.stable.runs);
    let reason: 'agreement' | 'error_rate' | undefined;
    let detail = '';
    if (policy.min_agreement !== undefined && stats.agreement < policy.min_agreement) {
      reason = 'agreement';
      detail = `top-1 agreement ${stats.agreement.toFixed(3)} fell below ${policy.min_agreement} after ${stats.compared} compared images`;
    } else if (
      policy.max_error_increase !== undefined &&
      candidateErrors - stableErrors > policy.max_error_increase
    ) {
      reason = 'error_rate';
      detail = `the candidate's error rate ${candidateErrors.toFixed(3)} exceeds the stable one's ${stableErrors.toFixed(3)} by more than ${policy.max_error_increase}`;
    }
    if (!reason) return;
    const version = stats.candidateVersion;
    // Marked at once, so the comparisons still arriving do not ask again while the rollback runs.
    this.stats.delete(model);
    this.rollbacks.set(model, { at: new Date().toISOString(), version, reason: detail });
    this.rollbackCounter.inc({ model, reason });
    this.logger.warn(`Model ${model}: rolling back candidate ${version} automatically: ${detail}`);
    this.models.rollback(model, `automatic: ${detail}`).catch((error: unknown) => {
      this.logger.error(`Model ${model}: the automatic rollback failed: ${String(error)}`);
    });
  }
}
