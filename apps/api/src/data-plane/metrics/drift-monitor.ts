import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Gauge, Registry } from 'prom-client';
import {
  jensenShannon,
  ModelRegistry,
  PROFILE_EDGES,
  REFERENCE_PROFILE_FILE,
  type ModelManifest,
  type ReferenceProfile,
} from '@app/inference';
import type { EnvironmentVariables } from '../../config/environment';
import { METRIC_PREFIX } from '../../observability/metrics-registry';

export type DriftStatus = 'ok' | 'drifting' | 'warming_up' | 'no_reference';

export interface Monitoring {
  status: DriftStatus;
  /** The status in plain words. */
  reason: string;
  window: { predictions: number; max_predictions: number; max_seconds: number };
  /** Jensen–Shannon divergences (0 same, 1 disjoint) of the window from the reference. */
  scores?: { confidence: number; class_mix: number };
  thresholds: { confidence: number; class_mix: number };
  reference?: { file: string; photos: number; folder: string; accuracy: number };
}

interface Sample {
  at: number;
  bucket: number;
  label: string;
}

const bucketOf = (confidence: number): number => {
  const index = PROFILE_EDGES.findIndex((edge) => confidence <= edge);
  return index < 0 ? PROFILE_EDGES.length - 1 : index;
};

/**
 * Drift, live: per model and version, the last DRIFT_WINDOW_SIZE answers within DRIFT_WINDOW_SECONDS, against the
 * model's reference profile. Two scores, both Jensen–Shannon divergences (see jensenShannon for why): the top-1
 * confidence distribution, on the profile's bucket edges, and the class mix. Either above its threshold is
 * "drifting". Exported as gauges and shown in GET /v1/models/{name}.
 */
@Injectable()
export class DriftMonitor {
  private readonly windows = new Map<string, Sample[]>();
  private readonly references = new Map<string, { profile: ReferenceProfile; file: string } | undefined>();
  private readonly size: number;
  private readonly seconds: number;
  private readonly minimum: number;
  private readonly thresholds: Monitoring['thresholds'];

  constructor(
    config: ConfigService<EnvironmentVariables, true>,
    registry: Registry,
    private readonly models: ModelRegistry,
  ) {
    this.size = config.get('DRIFT_WINDOW_SIZE', { infer: true });
    this.seconds = config.get('DRIFT_WINDOW_SECONDS', { infer: true });
    this.minimum = Math.min(this.size, config.get('DRIFT_MIN_PREDICTIONS', { infer: true }));
    this.thresholds = {
      confidence: config.get('DRIFT_CONFIDENCE_THRESHOLD', { infer: true }),
      class_mix: config.get('DRIFT_CLASS_MIX_THRESHOLD', { infer: true }),
    };
    const monitor = (): Array<{ model: string; version: string; monitoring: Monitoring }> =>
      [...this.windows.keys()].map((key) => {
        const [model, version] = key.split('\u0000');
        return { model, version, monitoring: this.status(model, version) };
      });
    new Gauge({
      name: `${METRIC_PREFIX}drift_score`,
      help: 'Jensen–Shannon divergence (0 to 1) of the recent answers from the model’s reference profile, by signal (`confidence`: the top-1 confidence distribution; `class_mix`).',
      labelNames: ['model', 'version', 'signal'],
      registers: [registry],
      collect() {
        this.reset();
        for (const { model, version, monitoring } of monitor()) {
          if (!monitoring.scores) continue;
          this.set({ model, version, signal: 'confidence' }, monitoring.scores.confidence);
          this.set({ model, version, signal: 'class_mix' }, monitoring.scores.class_mix);
        }
      },
    });
    new Gauge({
      name: `${METRIC_PREFIX}drift_status`,
      help: '1 for the model’s current drift status (`ok`, `drifting`, `warming_up`, `no_reference`), 0 for the others.',
      labelNames: ['model', 'version', 'status'],
      registers: [registry],
      collect() {
        this.reset();
        for (const { model, version, monitoring } of monitor()) {
          for (const status of ['ok', 'drifting', 'warming_up', 'no_reference'] as const)
            this.set({ model, version, status }, monitoring.status === status ? 1 : 0);
        }
      },
    });
  }

  /** One answer: its top-1 confidence and class. */
  record(model: string, version: string, confidence: number, label: string): void {
    const key = `${model}\u0000${version}`;
    const window = this.windows.get(key) ?? [];
    window.push({ at: Date.now(), bucket: bucketOf(confidence), label });
    if (window.length > this.size) window.splice(0, window.length - this.size);
    this.windows.set(key, window);
  }

  /** The `monitoring` block of a model version: the window, the scores against its reference, the status. */
  status(model: string, version: string): Monitoring {
    const cutoff = Date.now() - this.seconds * 1000;
    const window = (this.windows.get(`${model}\u0000${version}`) ?? []).filter(
      (sample) => sample.at >= cutoff,
    );
    const thresholds = this.thresholdsOf(model, version);
    const base = {
      window: { predictions: window.length, max_predictions: this.size, max_seconds: this.seconds },
      thresholds,
    };
    const reference = this.referenceOf(model, version);
    if (!reference) {
      return {
        status: 'no_reference',
        reason: `No reference to compare with: run npm run model:profile on photos the model should see; it writes ${REFERENCE_PROFILE_FILE} beside the manifest.`,
        ...base,
      };
    }
    const about = {
      file: reference.file,
      photos: reference.profile.photos.count,
      folder: reference.profile.photos.folder,
      accuracy: reference.profile.accuracy,
    };
    if (window.length < this.minimum) {
      return {
        status: 'warming_up',
        reason: `${window.length} answers in the window; drift is judged from ${this.minimum}.`,
        ...base,
        reference: about,
      };
    }
    const buckets = PROFILE_EDGES.map(() => 0);
    const classes = new Map<string, number>();
    for (const sample of window) {
      buckets[sample.bucket]++;
      classes.set(sample.label, (classes.get(sample.label) ?? 0) + 1);
    }
    const labels = [...new Set([...classes.keys(), ...Object.keys(reference.profile.class_mix)])];
    const round = (value: number) => Number(value.toFixed(4));
    const scores = {
      confidence: round(jensenShannon(buckets, reference.profile.confidence.counts)),
      class_mix: round(
        jensenShannon(
          labels.map((label) => classes.get(label) ?? 0),
          labels.map((label) => reference.profile.class_mix[label] ?? 0),
        ),
      ),
    };
    const over = (['confidence', 'class_mix'] as const).filter(
      (signal) => scores[signal] > thresholds[signal],
    );
    return {
      status: over.length > 0 ? 'drifting' : 'ok',
      reason:
        over.length > 0
          ? `The recent answers differ from the reference in ${over.map((signal) => signal.replace('_', ' ')).join(' and ')} (above the threshold): the photos sent are not like the reference photos, or the model answers them differently.`
          : 'The recent answers look like the reference.',
      ...base,
      scores,
      reference: about,
    };
  }

  /** The version's thresholds: its manifest's `monitoring.drift_thresholds`, else DRIFT_*_THRESHOLD. */
  private thresholdsOf(model: string, version: string): Monitoring['thresholds'] {
    const manifest = this.servedManifest(model, version);
    const own = manifest?.monitoring?.drift_thresholds;
    return {
      confidence: own?.confidence ?? this.thresholds.confidence,
      class_mix: own?.class_mix ?? this.thresholds.class_mix,
    };
  }

  private servedManifest(model: string, version: string): ModelManifest | undefined {
    const manifest = this.models.servedModels().find((one) => one.name === model)?.state.manifest;
    return manifest?.version === version ? manifest : undefined;
  }

  /** The served version's reference profile, when one is beside its manifest and was made with these weights. */
  referenceOf(model: string, version: string): { profile: ReferenceProfile; file: string } | undefined {
    const served = this.models.servedModels().find((one) => one.name === model)?.state;
    if (served?.status !== 'ready' || served.manifest.version !== version) return undefined;
    const { resolved } = served.model;
    const key = `${model}\u0000${version}\u0000${resolved.sha256}`;
    if (!this.references.has(key)) {
      const name = served.manifest.monitoring?.reference?.file ?? REFERENCE_PROFILE_FILE;
      const file = join(dirname(resolved.manifestPath), name);
      let loaded: { profile: ReferenceProfile; file: string } | undefined;
      if (existsSync(file)) {
        try {
          const profile = JSON.parse(readFileSync(file, 'utf8')) as ReferenceProfile;
          if (profile.kind === 'food-vision-reference-profile' && profile.model.sha256 === resolved.sha256)
            loaded = { profile, file: name };
        } catch {
          loaded = undefined;
        }
      }
      this.references.set(key, loaded);
    }
    return this.references.get(key);
  }
}
