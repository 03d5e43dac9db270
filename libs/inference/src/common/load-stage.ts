import { isMainThread, parentPort } from 'node:worker_threads';

/**
 * Tells the pool what a worker is doing while it loads its model (e.g. "building the model in TF.js
 * layers"), so that a load that stalls past its deadline is reported with the step it stalled in.
 * Does nothing on the main thread.
 */
export function reportLoadStage(stage: string): void {
  if (isMainThread || !parentPort) return;
  if (stopRequested) throw new LoadStoppedError(stage);
  parentPort.postMessage({ type: 'stage', stage });
}

let stopRequested = false;

/** Makes the next reportLoadStage in this worker throw, so that a load the pool no longer wants ends early. */
export function stopLoadAtNextStage(): void {
  stopRequested = true;
}

/** The load was abandoned because the pool asked its worker to stop. */
export class LoadStoppedError extends Error {
  constructor(stage: string) {
    super(`The worker was asked to stop, so its load ended before ${stage}.`);
    this.name = 'LoadStoppedError';
  }
}
