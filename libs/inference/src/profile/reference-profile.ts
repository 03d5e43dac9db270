import { topTwo } from '../processing/probabilities';

/** Probability edges of the profile's distributions, the same as the quality metrics' histogram buckets. */
export const PROFILE_EDGES = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1];

/** A distribution of probabilities: counts per bucket (`le` each edge, cumulative-free), mean and quantiles. */
export interface Distribution {
  edges: number[];
  counts: number[];
  mean: number;
  p10: number;
  p50: number;
  p90: number;
}

/** What a model answers on a folder of labelled photos: the reference that live traffic is compared with. */
export interface ReferenceProfile {
  kind: 'food-vision-reference-profile';
  version: 1;
  model: { name: string; version: string; sha256: string };
  photos: {
    folder: string;
    count: number;
    /** Where the labels came from: the file names (`<label>__<n>.jpg`) or a CSV (`file,label`). */
    labels_from: string;
    /** sha256 over the sorted `file sha256` lines: which photos exactly. */
    digest: string;
  };
  created: string;
  /** Share of photos per top-1 class (classes never predicted are absent). */
  class_mix: Record<string, number>;
  confidence: Distribution;
  margin: Distribution;
  /** Share of photos whose top-1 is their label. */
  accuracy: number;
  per_class: Record<string, { photos: number; correct: number; recall: number }>;
}

/** One photo's answer: its label and every class's probability. */
export interface ProfiledPhoto {
  label: string;
  probabilities: Float64Array;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  const at = (sorted.length - 1) * q;
  const low = Math.floor(at);
  const high = Math.ceil(at);
  return sorted[low] + (sorted[high] - sorted[low]) * (at - low);
}

export function distribution(values: number[]): Distribution {
  const counts = PROFILE_EDGES.map(() => 0);
  for (const value of values) {
    const bucket = PROFILE_EDGES.findIndex((edge) => value <= edge);
    counts[bucket < 0 ? counts.length - 1 : bucket]++;
  }
  const sorted = [...values].sort((a, b) => a - b);
  const round = (value: number) => Number(value.toFixed(6));
  return {
    edges: PROFILE_EDGES,
    counts,
    mean: round(values.reduce((sum, value) => sum + value, 0) / Math.max(1, values.length)),
    p10: round(quantile(sorted, 0.1)),
    p50: round(quantile(sorted, 0.5)),
    p90: round(quantile(sorted, 0.9)),
  };
}

/** The profile of `photos` as `labels` name the model's classes. */
export function referenceProfile(
  photos: readonly ProfiledPhoto[],
  labels: readonly string[],
  about: Pick<ReferenceProfile, 'model' | 'photos'>,
): ReferenceProfile {
  const mix = new Map<string, number>();
  const perClass = new Map<string, { photos: number; correct: number }>();
  const confidences: number[] = [];
  const margins: number[] = [];
  let correct = 0;
  for (const photo of photos) {
    const { index, first, second } = topTwo(photo.probabilities);
    const predicted = labels[index];
    mix.set(predicted, (mix.get(predicted) ?? 0) + 1);
    confidences.push(first);
    margins.push(first - second);
    const entry = perClass.get(photo.label) ?? { photos: 0, correct: 0 };
    entry.photos++;
    if (predicted === photo.label) {
      entry.correct++;
      correct++;
    }
    perClass.set(photo.label, entry);
  }
  const share = (count: number) => Number((count / Math.max(1, photos.length)).toFixed(6));
  return {
    kind: 'food-vision-reference-profile',
    version: 1,
    ...about,
    created: new Date().toISOString(),
    class_mix: Object.fromEntries(
      [...mix].sort(([a], [b]) => a.localeCompare(b)).map(([label, count]) => [label, share(count)]),
    ),
    confidence: distribution(confidences),
    margin: distribution(margins),
    accuracy: share(correct),
    per_class: Object.fromEntries(
      [...perClass]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([label, entry]) => [
          label,
          { ...entry, recall: Number((entry.correct / entry.photos).toFixed(6)) },
        ]),
    ),
  };
}
