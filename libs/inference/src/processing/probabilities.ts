import type { OutputKind } from '../manifest/model-manifest';

export class NonFiniteOutputError extends Error {
  constructor(message = 'The model produced a score that is not a finite number.') {
    super(message);
    this.name = 'NonFiniteOutputError';
  }
}

/**
 * Scores → probabilities that sum to 1. Softmax only for logits (the seed applied it to probabilities a second
 * time, flattening a sure 0.99 into 0.026). Probabilities from quantised models sum to ~0.996, so they are
 * renormalised; nothing non-finite gets through to JSON.
 */
export function toProbabilities(scores: Float32Array, kind: OutputKind): Float64Array {
  if (scores.some((value) => !Number.isFinite(value))) throw new NonFiniteOutputError();
  const out = new Float64Array(scores.length);
  if (kind === 'logits') {
    const max = scores.reduce((a, b) => Math.max(a, b), -Infinity);
    let sum = 0;
    for (let i = 0; i < scores.length; i++) {
      out[i] = Math.exp(scores[i] - max);
      sum += out[i];
    }
    for (let i = 0; i < out.length; i++) out[i] /= sum;
    return out;
  }
  let sum = 0;
  for (let i = 0; i < scores.length; i++) {
    out[i] = Math.min(1, Math.max(0, scores[i]));
    sum += out[i];
  }
  if (sum <= 0) throw new NonFiniteOutputError('The model gave every class a score of zero.');
  for (let i = 0; i < out.length; i++) out[i] /= sum;
  return out;
}

/** Indices of the `k` largest values, largest first; ties keep the lower index first. */
export function topK(values: ArrayLike<number>, k: number): number[] {
  // k = 0: the caller wants the probabilities alone (the /v2 data plane); nothing to rank.
  if (k <= 0) return [];
  const indices = Array.from({ length: values.length }, (_, i) => i);
  indices.sort((a, b) => values[b] - values[a] || a - b);
  return indices.slice(0, Math.max(0, Math.min(k, values.length)));
}

/**
 * The top class (the lowest index among ties, as `topK` ranks) with its probability and the runner-up's (0 for a
 * one-class model), from the whole row in one pass: what the quality metrics and the reference profile read.
 */
export function topTwo(probabilities: ArrayLike<number>): { index: number; first: number; second: number } {
  let index = 0;
  let first = -1;
  let second = 0;
  for (let at = 0; at < probabilities.length; at++) {
    const value = probabilities[at];
    if (value > first) {
      second = Math.max(first, 0);
      first = value;
      index = at;
    } else if (value > second) second = value;
  }
  return { index, first: Math.max(first, 0), second };
}
