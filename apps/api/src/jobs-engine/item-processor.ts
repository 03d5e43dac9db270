import { readFile } from 'node:fs/promises';
import { Injectable, Logger } from '@nestjs/common';
import type { ImageSource } from '@app/image-fetch';
import { problem, ProblemError } from '@app/problem';
import { Predictor } from '../data-plane/predictor';
import { toPredictionBody } from '../data-plane/prediction-body';
import { asProblemError, itemProblem } from './item-result';
import type { ItemOutcome, ItemProblem, JobOptions, ResultLine } from './job-types';

/** What a run of one item came to. */
export type ItemRun =
  /** A result to write: the prediction, or the problem `/v1` would have answered for this photo. */
  | { kind: 'result'; outcome: ItemOutcome; line: ResultLine }
  /** The service is busy or not ready (not the item's fault): try again later, without counting a try. */
  | { kind: 'defer'; problem: ProblemError }
  /** A failure that may pass (a worker crashed): try again, counting the try. */
  | { kind: 'retry'; problem: ProblemError }
  /** The job cannot go on: its model or version is no longer served. */
  | { kind: 'job-failed'; problem: ItemProblem };

/** Refusals that say "later", never "this photo is bad": back-pressure for a job, not an item's failure. */
const DEFER_CODES = new Set(['overloaded', 'model_not_ready', 'inference_timeout', 'shutting_down']);
/** Failures of the server rather than the photo, tried again up to JOBS_ITEM_ATTEMPTS times. */
const RETRY_CODES = new Set(['inference_worker_failed', 'internal_error']);
const JOB_FAILURE_CODES = new Set(['model_not_found', 'model_version_not_found']);

export interface ItemToRun {
  jobId: string;
  index: number;
  id: string;
  source: ImageSource | { kind: 'file'; path: string };
  options: JobOptions;
  signal?: AbortSignal;
}

/**
 * Runs one item of a job through the data plane in the background lane (interactive requests go first, and
 * BACKGROUND_WORKERS caps how many workers jobs take), and sorts the outcome into a result to write, a deferral
 * (back-pressure), a retry or the end of the job. Shared by the embedded runner and the BullMQ worker.
 */
@Injectable()
export class ItemProcessor {
  private readonly logger = new Logger('Jobs');

  constructor(private readonly predictor: Predictor) {}

  async run(item: ItemToRun): Promise<ItemRun> {
    try {
      const source = await this.source(item);
      const prediction = await this.predictor.predict(source, {
        protocol: 'job',
        lane: 'background',
        topK: item.options.topK,
        model: { name: item.options.model, version: item.options.modelVersion },
        signal: item.signal,
        requestId: `job-${item.jobId}-${item.index}`,
      });
      return {
        kind: 'result',
        outcome: 'succeeded',
        line: { id: item.id, index: item.index, prediction: toPredictionBody(prediction) },
      };
    } catch (reason) {
      if (!(reason instanceof ProblemError)) {
        this.logger.error(reason instanceof Error ? (reason.stack ?? reason.message) : String(reason));
      }
      const error = asProblemError(reason);
      if (DEFER_CODES.has(error.code)) return { kind: 'defer', problem: error };
      if (RETRY_CODES.has(error.code)) return { kind: 'retry', problem: error };
      if (JOB_FAILURE_CODES.has(error.code)) {
        return { kind: 'job-failed', problem: itemProblem(error, item.jobId, item.index) };
      }
      return this.failed(item, error);
    }
  }

  /** The result of an item whose tries ran out. */
  failed(item: Pick<ItemToRun, 'jobId' | 'index' | 'id'>, error: ProblemError): ItemRun {
    return {
      kind: 'result',
      outcome: 'failed',
      line: { id: item.id, index: item.index, problem: itemProblem(error, item.jobId, item.index) },
    };
  }

  private async source(item: ItemToRun): Promise<ImageSource> {
    if (item.source.kind !== 'file') return item.source;
    try {
      return { kind: 'bytes', bytes: await readFile(item.source.path) };
    } catch {
      throw problem('internal_error', "The archive member's extracted file is gone; send the job again.");
    }
  }
}
