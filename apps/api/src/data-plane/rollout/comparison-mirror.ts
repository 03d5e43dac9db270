import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import {
  ClassifierService,
  ModelRegistry,
  topTwo,
  type ClassifierLease,
  type Classification,
} from '@app/inference';
import { ProblemError } from '@app/problem';
import type { EnvironmentVariables } from '../../config/environment';
import { RolloutMonitor, type VersionAnswer } from './rollout-monitor';

/** A version's answer as the comparison reads it. */
function answerOf(
  classification: Classification,
  labels: readonly string[],
  minConfidence?: number,
): VersionAnswer {
  const { index, first } = topTwo(classification.probabilities);
  return {
    label: labels[index],
    confidence: first,
    abstained: minConfidence !== undefined && first < minConfidence,
  };
}

/** A 5xx other than a full queue: the version failed, not the image or the load. */
const isVersionFailure = (error: unknown) =>
  !(error instanceof ProblemError) || (error.status >= 500 && error.code !== 'overloaded');

/**
 * During a rollout, runs the other version on a copy of an image a request was answered with, off the response
 * path and in the background lane: in shadow mode the candidate mirrors `weight` percent of the stable answers,
 * in canary mode the stable version checks every candidate answer. Capped at ROLLOUT_MIRROR_MAX_IN_FLIGHT; a full
 * background lane or the cap sheds the run (counted). It never delays or fails the request it copies.
 */
@Injectable()
export class ComparisonMirror {
  private inFlight = 0;
  private readonly maxInFlight: number;

  constructor(
    private readonly models: ModelRegistry,
    private readonly classifier: ClassifierService,
    private readonly monitor: RolloutMonitor,
    config: ConfigService<EnvironmentVariables, true>,
  ) {
    this.maxInFlight = config.get('ROLLOUT_MIRROR_MAX_IN_FLIGHT', { infer: true });
  }

  /** A request's image was answered (or failed, `classification` undefined) by `lease`'s version. */
  answered(
    lease: ClassifierLease,
    bytes: Uint8Array,
    classification: Classification | undefined,
    failure?: unknown,
  ): void {
    const { name, version } = lease.model;
    const candidate = this.models.candidateVersion(name);
    if (candidate === undefined) return;
    if (!classification) {
      if (isVersionFailure(failure)) this.monitor.recordRun(name, version, 'error');
      return;
    }
    const own = answerOf(classification, lease.labels, lease.monitoring.min_confidence);
    this.monitor.recordRun(name, version, own);
    const { policy, stable } = this.models.rollout(name);
    const shadow = lease.role === 'stable';
    if (shadow && (policy.mode !== 'shadow' || Math.random() * 100 >= policy.weight)) return;
    if (this.inFlight >= this.maxInFlight) {
      this.monitor.recordShed(name, 'cap');
      return;
    }
    if (!this.models.hasIdleWorker(name)) {
      this.monitor.recordShed(name, 'busy');
      return;
    }
    const other = shadow ? candidate : stable;
    if (other === undefined) return;
    this.inFlight++;
    void this.run(name, other, bytes, own, shadow).finally(() => this.inFlight--);
  }

  private async run(name: string, version: string, bytes: Uint8Array, own: VersionAnswer, shadow: boolean) {
    let lease: ClassifierLease;
    try {
      lease = this.classifier.lease({ name, version });
    } catch {
      return; // The rollout ended meanwhile.
    }
    try {
      const classification = await lease.classifyImage(bytes, 1, undefined, { lane: 'background' });
      const theirs = answerOf(classification, lease.labels, lease.monitoring.min_confidence);
      this.monitor.recordRun(name, version, theirs);
      if (shadow) this.monitor.recordComparison(name, 'shadow', own, theirs);
      else this.monitor.recordComparison(name, 'canary', theirs, own);
    } catch (error) {
      if (error instanceof ProblemError && error.code === 'overloaded')
        this.monitor.recordShed(name, 'overloaded');
      else if (isVersionFailure(error)) this.monitor.recordRun(name, version, 'error');
    } finally {
      lease.release();
    }
  }
}
