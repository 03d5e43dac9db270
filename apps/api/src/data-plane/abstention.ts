import type { ClassifierLease } from '@app/inference';
import { invalidField } from '@app/problem';
import type { Abstention } from './prediction-feed';

/** The request's own `min_confidence`, else the model's (its manifest's `monitoring.min_confidence`), else none. */
export function minConfidenceFor(lease: ClassifierLease, requested: number | undefined): number | undefined {
  return requested ?? lease.monitoring.min_confidence;
}

/** A request's `min_confidence` parameter: a probability, 0 to 1 (undefined when absent). */
export function minConfidenceParameter(value: unknown, field = 'min_confidence'): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1)
    throw invalidField(field, `${field} is a probability from 0 to 1; ${JSON.stringify(value)} is not.`);
  return value;
}

/** The answer withheld when its top-1 probability is under `minConfidence`; undefined when it stands. */
export function abstentionOf(
  topLabel: string,
  topConfidence: number,
  minConfidence: number | undefined,
  candidates: () => Abstention['candidates'],
): Abstention | undefined {
  if (minConfidence === undefined || topConfidence >= minConfidence) return undefined;
  return {
    reason: 'low_confidence',
    detail: `The top class, ${topLabel}, has probability ${topConfidence.toFixed(3)}, under min_confidence ${minConfidence}: the model is not sure enough to answer.`,
    min_confidence: minConfidence,
    candidates: candidates(),
  };
}
