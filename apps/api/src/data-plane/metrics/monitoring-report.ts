import { PROFILE_EDGES, type ReferenceProfile } from '@app/inference';
import type { Monitoring } from './drift-monitor';
import {
  SLOT_SECONDS,
  slotStart,
  type HistoryWindow,
  type LowConfidencePrediction,
  type SlotCounts,
} from './version-history';

/** The classes a class-mix chart names; the rest are summed as "other". */
export const CLASS_MIX_ROWS = 10;

/** One class's share of the answers in the last hour and of the reference photos' answers. */
export interface ClassShare {
  label: string;
  count: number;
  share: number;
  reference_share?: number;
}

/** One time slot: its traffic, the rates of withheld and unsure answers, and the drift sampled in it. */
export interface SlotReport {
  start: string;
  predictions: number;
  predictions_per_second: number;
  abstention_rate?: number;
  low_confidence_rate?: number;
  drift_status?: Monitoring['status'];
  drift_scores?: { confidence: number; class_mix: number };
}

export interface LowConfidenceReport {
  at: string;
  protocol: LowConfidencePrediction['protocol'];
  request_id?: string;
  abstained: boolean;
  top: Array<{ label: string; confidence: number }>;
}

/** A served model version as the /monitor page draws it. */
export interface ModelMonitoringReport {
  name: string;
  version: string;
  monitoring: Monitoring;
  totals: { predictions: number; abstentions: number; low_confidence: number };
  confidence: { edges: number[]; counts: number[]; reference_counts?: number[] };
  class_mix: { classes: ClassShare[]; other: Omit<ClassShare, 'label'> };
  series: SlotReport[];
  low_confidence: LowConfidenceReport[];
}

export interface MonitoringOverview {
  generated_at: string;
  slot_seconds: number;
  history_seconds: number;
  low_confidence_threshold: number;
  models: ModelMonitoringReport[];
}

const round = (value: number): number => Number(value.toFixed(4));
const iso = (ms: number): string => new Date(ms).toISOString();

function slotReport({ slot, predictions, abstentions, lowConfidence, drift }: SlotCounts): SlotReport {
  return {
    start: iso(slotStart(slot)),
    predictions,
    predictions_per_second: round(predictions / SLOT_SECONDS),
    ...(predictions > 0
      ? {
          abstention_rate: round(abstentions / predictions),
          low_confidence_rate: round(lowConfidence / predictions),
        }
      : {}),
    ...(drift ? { drift_status: drift.status } : {}),
    ...(drift?.scores ? { drift_scores: drift.scores } : {}),
  };
}

/**
 * The classes that matter on either side (the largest share in the window or in the reference, so a class that
 * vanished from the traffic still shows), and everything else as "other".
 */
function classMix(
  counts: Map<string, number>,
  total: number,
  reference: ReferenceProfile | undefined,
): ModelMonitoringReport['class_mix'] {
  const shareOf = (label: string) => (total > 0 ? (counts.get(label) ?? 0) / total : 0);
  const referenceShare = (label: string) => reference?.class_mix[label] ?? 0;
  const labels = [...new Set([...counts.keys(), ...Object.keys(reference?.class_mix ?? {})])];
  const weight = (label: string) => Math.max(shareOf(label), referenceShare(label));
  const shown = labels.sort((a, b) => weight(b) - weight(a) || a.localeCompare(b)).slice(0, CLASS_MIX_ROWS);
  const classes = shown.map((label) => ({
    label,
    count: counts.get(label) ?? 0,
    share: round(shareOf(label)),
    ...(reference ? { reference_share: round(referenceShare(label)) } : {}),
  }));
  const shownCount = shown.reduce((sum, label) => sum + (counts.get(label) ?? 0), 0);
  const shownReference = shown.reduce((sum, label) => sum + referenceShare(label), 0);
  return {
    classes,
    other: {
      count: total - shownCount,
      share: round(total > 0 ? (total - shownCount) / total : 0),
      ...(reference ? { reference_share: round(Math.max(0, 1 - shownReference)) } : {}),
    },
  };
}

/** A version's report from its history window, its latest unsure answers, its drift status and reference. */
export function modelMonitoringReport(
  model: { name: string; version: string },
  window: HistoryWindow,
  latest: LowConfidencePrediction[],
  monitoring: Monitoring,
  reference: ReferenceProfile | undefined,
): ModelMonitoringReport {
  return {
    name: model.name,
    version: model.version,
    monitoring,
    totals: {
      predictions: window.predictions,
      abstentions: window.abstentions,
      low_confidence: window.lowConfidence,
    },
    confidence: {
      edges: [...PROFILE_EDGES],
      counts: window.confidenceCounts,
      ...(reference ? { reference_counts: [...reference.confidence.counts] } : {}),
    },
    class_mix: classMix(window.classCounts, window.predictions, reference),
    series: window.slots.map(slotReport),
    low_confidence: latest.map((one) => ({
      at: iso(one.at),
      protocol: one.protocol,
      ...(one.requestId !== undefined ? { request_id: one.requestId } : {}),
      abstained: one.abstained,
      top: one.top.map(({ label, confidence }) => ({ label, confidence: round(confidence) })),
    })),
  };
}
