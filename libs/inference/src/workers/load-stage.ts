import { isMainThread, parentPort } from 'node:worker_threads';

/**
 * Tells the pool what a worker is doing while it loads its model (e.g. "building the model in TF.js
 * layers"), so that a load that stalls past its deadline is reported with the step it stalled in.
 * Does nothing on the main thread.
 */
export function reportLoadStage(stage: string): void {
  if (!isMainThread && parentPort) parentPort.postMessage({ type: 'stage', stage });
}
