import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ConfigService } from '@nestjs/config';
import { PROFILE_EDGES, type ReferenceProfile } from '@app/inference';
import type { EnvironmentVariables } from '../../config/environment';
import { PredictionFeed, type PredictionRecord } from '../prediction-feed';
import type { ServingState } from '../serving-state';
import type { DriftMonitor, Monitoring } from './drift-monitor';
import { MAX_TRACKED_VERSIONS, MonitoringHistory } from './monitoring-history';
import type { ModelMonitoringReport } from './monitoring-report';

// The /monitor page's history fed by the prediction feed: slots, rates, the hour it keeps and its bounds, with the
// expected numbers worked out here from the records sent, not by the code under test.

const T0 = Date.UTC(2026, 0, 15, 12, 0, 0); // on a slot boundary
const SLOT = 10_000;
const HOUR = 3_600_000;
const LOW = 0.5;

let served: string[];
let driftStatus: Monitoring;
let reference: ReferenceProfile | undefined;
let feed: PredictionFeed;
let history: MonitoringHistory;

function record(at: number, label: string, confidence: number, extra: Partial<PredictionRecord> = {}) {
  const top = [
    { label, confidence },
    { label: 'runner_up', confidence: (1 - confidence) / 2 },
  ];
  const one: PredictionRecord = {
    at,
    protocol: 'v1',
    model: { name: 'food', version: '1' },
    label,
    confidence,
    margin: confidence - top[1].confidence,
    top,
    image: { origin: 'upload', format: 'jpeg', size: 'under_1024', bytes: new Uint8Array([1, 2, 3]) },
    timings: { fetchMs: 0, decodeMs: 1, queueMs: 0, inferenceMs: 2 },
    ...extra,
  };
  feed.publish(one);
  return one;
}

const report = (name = 'food'): ModelMonitoringReport =>
  history.overview().models.find((model) => model.name === name)!;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] });
  vi.setSystemTime(T0);
  served = ['food'];
  reference = undefined;
  driftStatus = { status: 'warming_up', reason: 'stub', window: {} as never, thresholds: {} as never };
  feed = new PredictionFeed();
  const serving = {
    list: () =>
      served.map((name) => ({
        name,
        isDefault: name === 'food',
        versions: ['1'],
        state: { status: 'ready', manifest: { version: '1' } },
      })),
  } as unknown as ServingState;
  const drift = {
    status: () => driftStatus,
    referenceOf: () => (reference ? { profile: reference, file: 'reference-profile.json' } : undefined),
  } as unknown as DriftMonitor;
  const config = { get: () => LOW } as unknown as ConfigService<EnvironmentVariables, true>;
  history = new MonitoringHistory(feed, drift, serving, config);
});

afterEach(() => {
  history.onModuleDestroy();
  vi.useRealTimers();
});

describe('MonitoringHistory', () => {
  it('counts each slot and works out its rates', () => {
    // 3 slots: 7, 0 (silent) and 4 predictions, with known low-confidence answers and abstentions.
    const sent = [
      ...[0.9, 0.3, 0.95, 0.42, 0.99, 0.7, 0.2].map((c, i) => ({ at: T0 + i * 1000, c, abstain: i === 3 })),
      ...[0.1, 0.8, 0.49, 0.5].map((c, i) => ({ at: T0 + 2 * SLOT + i * 100, c, abstain: i < 2 })),
    ];
    for (const { at, c, abstain } of sent) {
      record(at, c < LOW ? 'hot_dog' : 'pizza', c, abstain ? { abstention: abstentionOf(c) } : {});
    }
    vi.setSystemTime(T0 + 2 * SLOT + 5000);
    const { series, totals, confidence, class_mix } = report();

    const bySlot = new Map<number, typeof sent>();
    for (const one of sent) {
      const start = Math.floor(one.at / SLOT) * SLOT;
      bySlot.set(start, [...(bySlot.get(start) ?? []), one]);
    }
    expect(series).toEqual(
      [...bySlot].map(([start, ones]) => ({
        start: new Date(start).toISOString(),
        predictions: ones.length,
        predictions_per_second: ones.length / 10,
        abstention_rate: Number((ones.filter((o) => o.abstain).length / ones.length).toFixed(4)),
        low_confidence_rate: Number((ones.filter((o) => o.c < LOW).length / ones.length).toFixed(4)),
      })),
    );
    expect(series.map((slot) => slot.low_confidence_rate)).toEqual([0.4286, 0.5]);
    expect(totals).toEqual({ predictions: 11, abstentions: 3, low_confidence: 5 });
    const expectedCounts = PROFILE_EDGES.map(
      (edge, i) => sent.filter(({ c }) => c <= edge && (i === 0 || c > PROFILE_EDGES[i - 1])).length,
    );
    expect(confidence.counts).toEqual(expectedCounts);
    expect(confidence.reference_counts).toBeUndefined();
    expect(class_mix.classes).toEqual([
      { label: 'pizza', count: 6, share: 0.5455 },
      { label: 'hot_dog', count: 5, share: 0.4545 },
    ]);
    expect(class_mix.other).toEqual({ count: 0, share: 0 });
  });

  it('keeps one hour: a slot an hour later takes the old one’s place, and older answers are dropped', () => {
    record(T0, 'pizza', 0.9);
    record(T0 + 1, 'pizza', 0.9);
    record(T0 + HOUR - SLOT, 'ramen', 0.8);
    vi.setSystemTime(T0 + HOUR - 1);
    expect(report().series.map((slot) => slot.predictions)).toEqual([2, 1]);

    // The same ring position, one hour on: the old slot's counts are gone, not added to.
    record(T0 + HOUR, 'sushi', 0.6);
    vi.setSystemTime(T0 + HOUR + 1);
    const later = report();
    expect(later.series.map((slot) => [slot.start, slot.predictions])).toEqual([
      [new Date(T0 + HOUR - SLOT).toISOString(), 1],
      [new Date(T0 + HOUR).toISOString(), 1],
    ]);
    expect(later.class_mix.classes.map((row) => [row.label, row.count])).toEqual([
      ['ramen', 1],
      ['sushi', 1],
    ]);
    // An answer stamped in the slot that left the ring is not counted anywhere.
    record(T0 + 2, 'pizza', 0.9);
    expect(report().totals.predictions).toBe(2);

    // An hour and more without traffic: nothing left to show.
    vi.setSystemTime(T0 + 3 * HOUR);
    expect(report().series).toEqual([]);
    expect(report().totals).toEqual({ predictions: 0, abstentions: 0, low_confidence: 0 });
  });

  it('stays bounded: 360 slots, 20 latest low-confidence answers of 5 candidates, 16 versions', () => {
    const top = Array.from({ length: 101 }, (_, i) => ({ label: `class_${i}`, confidence: 0.3 / (i + 1) }));
    // Two hours at 2 answers a second: 20 a slot, 720 slots.
    const last = T0 + (2 * 360 * 20 - 1) * 500;
    for (let at = T0, i = 0; at <= last; at += 500, i++) record(at, `class_${i % 101}`, 0.3, { top });
    vi.setSystemTime(last);
    const { series, low_confidence, totals } = report();
    expect(series).toHaveLength(360);
    expect(series.every((slot) => slot.predictions === 20)).toBe(true);
    expect(totals.predictions).toBe(360 * 20);
    expect(low_confidence).toHaveLength(20);
    expect(low_confidence[0].at).toBe(new Date(last).toISOString());
    expect(low_confidence.every((one) => one.top.length === 5)).toBe(true);

    // One more model per slot after that: the least recently used versions make room.
    served = Array.from({ length: MAX_TRACKED_VERSIONS + 4 }, (_, i) => `model_${i}`);
    served.forEach((name, i) =>
      record(last + (i + 1) * SLOT, 'pizza', 0.9, { model: { name, version: '1' } }),
    );
    vi.setSystemTime(last + (served.length + 1) * SLOT);
    const counts = history.overview().models.map((model) => model.totals.predictions);
    // The 'food' history and the first 4 models were forgotten to make room, the latest 16 kept.
    expect(counts).toEqual([...Array<number>(4).fill(0), ...Array<number>(MAX_TRACKED_VERSIONS).fill(1)]);
  });

  it('lists the latest unsure or withheld answers, newest first, with labels and scores and no image', () => {
    record(T0, 'pizza', 0.97);
    record(T0 + 1000, 'ramen', 0.31, { protocol: 'grpc', requestId: 'r-1' });
    record(T0 + 2000, 'sushi', 0.62, { protocol: 'v2', abstention: abstentionOf(0.62, 0.7) });
    vi.setSystemTime(T0 + 3000);
    expect(report().low_confidence).toEqual([
      {
        at: new Date(T0 + 2000).toISOString(),
        protocol: 'v2',
        abstained: true,
        top: [
          { label: 'sushi', confidence: 0.62 },
          { label: 'runner_up', confidence: 0.19 },
        ],
      },
      {
        at: new Date(T0 + 1000).toISOString(),
        protocol: 'grpc',
        request_id: 'r-1',
        abstained: false,
        top: [
          { label: 'ramen', confidence: 0.31 },
          { label: 'runner_up', confidence: 0.345 },
        ],
      },
    ]);
  });

  it('samples the drift status into the current slot every 10 s', () => {
    record(T0, 'pizza', 0.9);
    driftStatus = { ...driftStatus, status: 'ok', scores: { confidence: 0.01, class_mix: 0.2 } };
    vi.advanceTimersByTime(SLOT);
    driftStatus = { ...driftStatus, status: 'drifting', scores: { confidence: 0.6, class_mix: 0.9 } };
    vi.advanceTimersByTime(SLOT);
    const { series, monitoring } = report();
    expect(series).toEqual([
      expect.objectContaining({ predictions: 1 }),
      {
        start: new Date(T0 + SLOT).toISOString(),
        predictions: 0,
        predictions_per_second: 0,
        drift_status: 'ok',
        drift_scores: { confidence: 0.01, class_mix: 0.2 },
      },
      expect.objectContaining({
        drift_status: 'drifting',
        drift_scores: { confidence: 0.6, class_mix: 0.9 },
      }),
    ]);
    expect(monitoring.status).toBe('drifting');
  });

  it('sets the class mix and the confidence against the reference, the rest as "other"', () => {
    const mix: Record<string, number> = {};
    for (let i = 0; i < 12; i++) mix[`ref_${String(i).padStart(2, '0')}`] = i < 2 ? 0.2 : 0.06;
    reference = {
      class_mix: mix,
      confidence: { counts: PROFILE_EDGES.map((_, i) => i) },
    } as unknown as ReferenceProfile;
    for (let i = 0; i < 4; i++) record(T0 + i, 'pizza', 0.99);
    record(T0 + 5, 'ref_00', 0.99);
    const { class_mix, confidence } = report();
    expect(confidence.reference_counts).toEqual(PROFILE_EDGES.map((_, i) => i));
    // pizza (80 % now), ref_00 and ref_01 (20 % of the reference), then 7 of the ten 6 % ones by name.
    expect(class_mix.classes.map((row) => [row.label, row.share, row.reference_share])).toEqual([
      ['pizza', 0.8, 0],
      ['ref_00', 0.2, 0.2],
      ['ref_01', 0, 0.2],
      ...['02', '03', '04', '05', '06', '07', '08'].map((n) => [`ref_${n}`, 0, 0.06]),
    ]);
    expect(class_mix.other).toEqual({ count: 0, share: 0, reference_share: 0.18 });
  });
});

function abstentionOf(confidence: number, minConfidence = 0.6): PredictionRecord['abstention'] {
  return {
    reason: 'low_confidence',
    detail: 'not sure enough',
    min_confidence: minConfidence,
    candidates: [{ label: 'x', confidence }],
  };
}
