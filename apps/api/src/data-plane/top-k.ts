import { problem } from '@app/problem';

/** The classes a /v1 answer lists when the request does not say (fewer for a model with fewer labels). */
export const DEFAULT_TOP_K = 5;

/**
 * The number of classes to answer: the request's `top_k`, else 5 (or every class of a model with fewer).
 * Refused with 400 when the model has fewer labels than asked for, before any photo is fetched.
 */
export function resolveTopK(requested: number | undefined, labelCount: number): number {
  const topK = requested ?? Math.min(DEFAULT_TOP_K, labelCount);
  if (topK > labelCount) {
    throw problem('validation_failed', `top_k must be between 1 and ${labelCount}, the number of labels.`, {
      errors: [{ field: 'top_k', message: `top_k must not be greater than ${labelCount}` }],
    });
  }
  return topK;
}
