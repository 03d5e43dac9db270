import { problem as makeProblem, ProblemError } from '@app/problem';
import { problemBody } from '../problem/problem-response';
import type { ItemProblem } from './job-types';

/** Where an item's problem points: its job, then the item's index. */
export function itemInstance(jobId: string, index: number): string {
  return `/v1/jobs/${jobId}#/items/${index}`;
}

/** The problem body of an item, as `/v1` would send it for that photo alone. */
export function itemProblem(error: ProblemError, jobId: string, index: number): ItemProblem {
  return problemBody(error, itemInstance(jobId, index)) as ItemProblem;
}

export function asProblemError(reason: unknown): ProblemError {
  if (reason instanceof ProblemError) return reason;
  return makeProblem('internal_error', 'The server failed to classify this item; it has been logged.');
}
