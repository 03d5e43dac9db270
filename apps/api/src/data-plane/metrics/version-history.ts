import { PROFILE_EDGES } from '@app/inference';
import type { PredictionRecord } from '../prediction-feed';
import type { Protocol } from '../protocol';
import type { DriftStatus, Monitoring } from './drift-monitor';

/** 10 s: a burst or a shift shows within a minute, and an hour is a few hundred points a chart can draw. */
export const SLOT_SECONDS = 10;
/** One hour, the default DRIFT_WINDOW_SECONDS: the charts cover the span the drift scores are judged on. */
export const HISTORY_SLOTS = 360;
/** Enough to see what the model hesitated on lately, few enough for a table that fits on a phone. */
export const LATEST_LOW_CONFIDENCE = 20;
/** The candidates kept per low-confidence answer (a request may ask for all 101 classes). */
export const KEPT_CANDIDATES = 5;

const SLOT_MS = SLOT_SECONDS * 1000;
const BUCKETS = PROFILE_EDGES.length;
/** Class columns per slot to start with; doubled when a model predicts more classes (Food-101: 16 → 128). */
const INITIAL_CLASS_CAPACITY = 16;

export const slotOf = (at: number): number => Math.floor(at / SLOT_MS);
export const slotStart = (slot: number): number => slot * SLOT_MS;

/** The bucket of a probability on PROFILE_EDGES (`le` each edge), as the reference profile counts it. */
export function confidenceBucket(confidence: number): number {
  for (let index = 0; index < BUCKETS; index++) if (confidence <= PROFILE_EDGES[index]) return index;
  return BUCKETS - 1;
}

/** An answer under QUALITY_LOW_CONFIDENCE or withheld: what it was, never the image. */
export interface LowConfidencePrediction {
  at: number;
  protocol: Protocol;
  requestId?: string;
  abstained: boolean;
  /** The answer's top classes, most likely first (at most KEPT_CANDIDATES). */
  top: Array<{ label: string; confidence: number }>;
}

/** One slot as read back: its counts and the drift sampled in it. */
export interface SlotCounts {
  slot: number;
  predictions: number;
  abstentions: number;
  lowConfidence: number;
  drift?: { status: DriftStatus; scores?: { confidence: number; class_mix: number } };
}

/** What a version's history holds now: the live slots, oldest first, and their sums. */
export interface HistoryWindow {
  slots: SlotCounts[];
  predictions: number;
  abstentions: number;
  lowConfidence: number;
  confidenceCounts: number[];
  classCounts: Map<string, number>;
}

/** The window of a version nothing was recorded for. */
export function emptyWindow(): HistoryWindow {
  return {
    slots: [],
    predictions: 0,
    abstentions: 0,
    lowConfidence: 0,
    confidenceCounts: new Array<number>(BUCKETS).fill(0),
    classCounts: new Map(),
  };
}

/**
 * One model version's last HISTORY_SLOTS slots, in fixed typed arrays used as a ring (a slot's position is its
 * number modulo HISTORY_SLOTS): recording a prediction adds to counters in place, so memory stays bounded
 * whatever the traffic, and a slot is cleared when the ring comes round to it again.
 */
export class VersionHistory {
  /** The slot number each ring position holds; -1 when unused. */
  private readonly held = new Float64Array(HISTORY_SLOTS).fill(-1);
  private readonly predictions = new Uint32Array(HISTORY_SLOTS);
  private readonly abstentions = new Uint32Array(HISTORY_SLOTS);
  private readonly lowConfidence = new Uint32Array(HISTORY_SLOTS);
  private readonly confidence = new Uint32Array(HISTORY_SLOTS * BUCKETS);
  private readonly drift: Array<SlotCounts['drift']> = new Array<SlotCounts['drift']>(HISTORY_SLOTS);
  private classCapacity = INITIAL_CLASS_CAPACITY;
  private classes = new Uint32Array(HISTORY_SLOTS * INITIAL_CLASS_CAPACITY);
  private readonly labels: string[] = [];
  private readonly labelIndex = new Map<string, number>();
  private readonly latest: LowConfidencePrediction[] = [];
  private nextLatest = 0;
  /** The newest slot a prediction went to. */
  lastSlot = -1;

  /** Counts one prediction in its slot; an answer older than the history is dropped. */
  record(record: PredictionRecord, lowConfidence: boolean): void {
    const slot = slotOf(record.at);
    const position = this.positionOf(slot);
    if (position < 0) return;
    this.predictions[position]++;
    if (record.abstention) this.abstentions[position]++;
    if (lowConfidence) this.lowConfidence[position]++;
    this.confidence[position * BUCKETS + confidenceBucket(record.confidence)]++;
    this.classes[position * this.classCapacity + this.classColumn(record.label)]++;
    if (slot > this.lastSlot) this.lastSlot = slot;
    if (lowConfidence || record.abstention) this.remember(record);
  }

  /** The drift status sampled during `slot` (the last sample of a slot wins). */
  sampleDrift(slot: number, monitoring: Pick<Monitoring, 'status' | 'scores'>): void {
    const position = this.positionOf(slot);
    if (position < 0) return;
    this.drift[position] = {
      status: monitoring.status,
      ...(monitoring.scores ? { scores: { ...monitoring.scores } } : {}),
    };
  }

  /** The slots of the hour ending with `nowSlot`, and their sums. */
  window(nowSlot: number): HistoryWindow {
    const oldest = nowSlot - HISTORY_SLOTS + 1;
    const positions: number[] = [];
    for (let position = 0; position < HISTORY_SLOTS; position++) {
      const slot = this.held[position];
      if (slot >= oldest && slot <= nowSlot) positions.push(position);
    }
    positions.sort((a, b) => this.held[a] - this.held[b]);
    const classTotals = new Float64Array(this.labels.length);
    const window = emptyWindow();
    const { confidenceCounts } = window;
    for (const position of positions) {
      window.slots.push({
        slot: this.held[position],
        predictions: this.predictions[position],
        abstentions: this.abstentions[position],
        lowConfidence: this.lowConfidence[position],
        ...(this.drift[position] ? { drift: this.drift[position] } : {}),
      });
      window.predictions += this.predictions[position];
      window.abstentions += this.abstentions[position];
      window.lowConfidence += this.lowConfidence[position];
      for (let bucket = 0; bucket < BUCKETS; bucket++)
        confidenceCounts[bucket] += this.confidence[position * BUCKETS + bucket];
      for (let column = 0; column < this.labels.length; column++)
        classTotals[column] += this.classes[position * this.classCapacity + column];
    }
    this.labels.forEach((label, column) => {
      if (classTotals[column] > 0) window.classCounts.set(label, classTotals[column]);
    });
    return window;
  }

  /** The latest low-confidence answers within the hour ending with `nowSlot`, newest first. */
  latestLowConfidence(nowSlot: number): LowConfidencePrediction[] {
    const oldest = slotStart(nowSlot - HISTORY_SLOTS + 1);
    return [...this.latest].filter((one) => one.at >= oldest).sort((a, b) => b.at - a.at);
  }

  /** The ring position of `slot`, cleared if it held an older slot; -1 when `slot` has left the ring. */
  private positionOf(slot: number): number {
    const position = slot % HISTORY_SLOTS;
    const held = this.held[position];
    if (held === slot) return position;
    if (held > slot) return -1;
    this.held[position] = slot;
    this.predictions[position] = 0;
    this.abstentions[position] = 0;
    this.lowConfidence[position] = 0;
    this.confidence.fill(0, position * BUCKETS, (position + 1) * BUCKETS);
    this.classes.fill(0, position * this.classCapacity, (position + 1) * this.classCapacity);
    this.drift[position] = undefined;
    return position;
  }

  private classColumn(label: string): number {
    const known = this.labelIndex.get(label);
    if (known !== undefined) return known;
    const column = this.labels.length;
    if (column === this.classCapacity) this.growClasses();
    this.labels.push(label);
    this.labelIndex.set(label, column);
    return column;
  }

  private growClasses(): void {
    const capacity = this.classCapacity * 2;
    const grown = new Uint32Array(HISTORY_SLOTS * capacity);
    for (let position = 0; position < HISTORY_SLOTS; position++) {
      const from = position * this.classCapacity;
      grown.set(this.classes.subarray(from, from + this.classCapacity), position * capacity);
    }
    this.classes = grown;
    this.classCapacity = capacity;
  }

  private remember(record: PredictionRecord): void {
    const count = Math.min(KEPT_CANDIDATES, record.top.length);
    const top = new Array<{ label: string; confidence: number }>(count);
    for (let index = 0; index < count; index++)
      top[index] = { label: record.top[index].label, confidence: record.top[index].confidence };
    this.latest[this.nextLatest] = {
      at: record.at,
      protocol: record.protocol,
      ...(record.requestId !== undefined ? { requestId: record.requestId } : {}),
      abstained: record.abstention !== undefined,
      top,
    };
    this.nextLatest = (this.nextLatest + 1) % LATEST_LOW_CONFIDENCE;
  }
}
