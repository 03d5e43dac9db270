import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { EnvironmentVariables } from '../../config/environment';
import { PredictionFeed, type PredictionRecord } from '../prediction-feed';
import { ServingState } from '../serving-state';
import { DriftMonitor } from './drift-monitor';
import { modelMonitoringReport, type MonitoringOverview } from './monitoring-report';
import { emptyWindow, HISTORY_SLOTS, SLOT_SECONDS, slotOf, VersionHistory } from './version-history';

/**
 * Versions with a history at once. A model store that reloads often leaves old versions behind; past this many the
 * least recently used is forgotten, so memory stays bounded (about 200 KB per Food-101 version).
 */
export const MAX_TRACKED_VERSIONS = 16;

/**
 * The /monitor page's memory: per model and version, the last hour of predictions in 10 s slots (counts,
 * abstentions, low-confidence answers, the confidence histogram, the class counts), the drift scores sampled once
 * a slot, and the latest low-confidence answers (labels and scores, never the image). Fed by PredictionFeed; the
 * listener only adds to counters, as it runs on every prediction's path.
 */
@Injectable()
export class MonitoringHistory implements OnModuleDestroy {
  /** Model name, then version: two lookups and no key string built on the prediction's path. */
  private readonly histories = new Map<string, Map<string, VersionHistory>>();
  private tracked = 0;
  private readonly lowConfidence: number;
  private readonly unsubscribe: () => void;
  private readonly sampler: NodeJS.Timeout;

  constructor(
    feed: PredictionFeed,
    private readonly drift: DriftMonitor,
    private readonly serving: ServingState,
    config: ConfigService<EnvironmentVariables, true>,
  ) {
    this.lowConfidence = config.get('QUALITY_LOW_CONFIDENCE', { infer: true });
    this.unsubscribe = feed.subscribe((record) => this.record(record));
    this.sampler = setInterval(() => this.sampleDrift(), SLOT_SECONDS * 1000);
    this.sampler.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.sampler);
    this.unsubscribe();
  }

  /** Every model ready to serve, its served version's history and drift, as of `now`. */
  overview(now = Date.now()): MonitoringOverview {
    const nowSlot = slotOf(now);
    const models = this.serving.list().flatMap(({ name, state }) => {
      if (state.status !== 'ready') return [];
      const version = state.manifest.version;
      const history = this.histories.get(name)?.get(version);
      return [
        modelMonitoringReport(
          { name, version },
          history?.window(nowSlot) ?? emptyWindow(),
          history?.latestLowConfidence(nowSlot) ?? [],
          this.drift.status(name, version),
          this.drift.referenceOf(name, version)?.profile,
        ),
      ];
    });
    return {
      generated_at: new Date(now).toISOString(),
      slot_seconds: SLOT_SECONDS,
      history_seconds: SLOT_SECONDS * HISTORY_SLOTS,
      low_confidence_threshold: this.lowConfidence,
      models,
    };
  }

  private record(record: PredictionRecord): void {
    const { name, version } = record.model;
    const history = this.histories.get(name)?.get(version) ?? this.track(name, version);
    history.record(record, record.confidence < this.lowConfidence);
  }

  /** A history for a version seen for the first time, made room for. */
  private track(name: string, version: string): VersionHistory {
    if (this.tracked >= MAX_TRACKED_VERSIONS) this.forgetLeastRecent();
    const history = new VersionHistory();
    const versions = this.histories.get(name) ?? new Map<string, VersionHistory>();
    versions.set(version, history);
    this.histories.set(name, versions);
    this.tracked++;
    return history;
  }

  /** Once a slot: each version's drift status into its current slot; versions silent for an hour are forgotten. */
  private sampleDrift(): void {
    const nowSlot = slotOf(Date.now());
    for (const [name, version, history] of this.versions()) {
      if (history.lastSlot <= nowSlot - HISTORY_SLOTS) this.forget(name, version);
      else history.sampleDrift(nowSlot, this.drift.status(name, version));
    }
  }

  private forgetLeastRecent(): void {
    let oldest: [string, string, VersionHistory] | undefined;
    for (const entry of this.versions())
      if (!oldest || entry[2].lastSlot < oldest[2].lastSlot) oldest = entry;
    if (oldest) this.forget(oldest[0], oldest[1]);
  }

  private forget(name: string, version: string): void {
    const versions = this.histories.get(name);
    if (!versions?.delete(version)) return;
    this.tracked--;
    if (versions.size === 0) this.histories.delete(name);
  }

  /** Every tracked version, as a list (safe to forget versions while going through it). */
  private versions(): Array<[string, string, VersionHistory]> {
    return [...this.histories].flatMap(([name, versions]) =>
      [...versions].map(([version, history]): [string, string, VersionHistory] => [name, version, history]),
    );
  }
}
