import { Logger } from '@nestjs/common';
import { parentPort, workerData } from 'node:worker_threads';
import { ForwardingLogger } from './forwarding-logger';
import { stopLoadAtNextStage } from '../common/load-stage';
import { serializeError } from './serialized-error';
import type { MainToWorkerMessage, WorkerMessage } from './worker-protocol';

export interface WorkerHandler<Task, Result, Info> {
  info: Info;
  /** Runs one task; `transfer` lists buffers to move (not copy) back to the main thread. */
  handle(task: Task): Promise<{ result: Result; transfer?: ArrayBuffer[] }>;
}

/**
 * The worker side of WorkerPool: builds the handler from `workerData` (load and warm the model), reports
 * ready or failed, then runs one task at a time as the pool sends them. On `stop` it exits as soon as neither
 * the load nor a task is running, so no native call is ever cut off (see StopMessage).
 */
export function serveWorkerTasks<Setup, Task, Result, Info>(
  open: (setup: Setup) => Promise<WorkerHandler<Task, Result, Info>>,
): void {
  const port = parentPort;
  if (!port) throw new Error('serveWorkerTasks must run in a worker thread.');
  const post = (message: WorkerMessage<Result, Info>, transfer: ArrayBuffer[] = []) =>
    port.postMessage(message, transfer);
  Logger.overrideLogger(new ForwardingLogger(port));
  let handler: WorkerHandler<Task, Result, Info> | undefined;
  let running = 1; // the load
  let stopping = false;
  const settled = () => {
    running--;
    if (stopping && running === 0) process.exit(0);
  };
  port.on('message', (message: MainToWorkerMessage<Task>) => {
    if (message.type === 'stop') {
      stopping = true;
      stopLoadAtNextStage();
      if (running === 0) process.exit(0);
      return;
    }
    if (!handler) return;
    running++;
    const { id, task } = message;
    handler
      .handle(task)
      .then(
        ({ result, transfer }) => post({ type: 'result', id, result }, transfer),
        (error: unknown) => post({ type: 'error', id, error: serializeError(error) }),
      )
      .finally(settled);
  });
  open(workerData as Setup)
    .then(
      (opened) => {
        handler = opened;
        post({ type: 'ready', info: opened.info });
      },
      (error: unknown) => post({ type: 'failed', error: serializeError(error) }),
    )
    .finally(settled);
}
