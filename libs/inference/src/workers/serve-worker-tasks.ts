import { Logger } from '@nestjs/common';
import { parentPort, workerData } from 'node:worker_threads';
import { ForwardingLogger } from './forwarding-logger';
import { serializeError } from './serialized-error';
import type { TaskMessage, WorkerMessage } from './worker-protocol';

export interface WorkerHandler<Task, Result, Info> {
  info: Info;
  /** Runs one task; `transfer` lists buffers to move (not copy) back to the main thread. */
  handle(task: Task): Promise<{ result: Result; transfer?: ArrayBuffer[] }>;
}

/**
 * The worker side of WorkerPool: builds the handler from `workerData` (load and warm the model), reports
 * ready or failed, then runs one task at a time as the pool sends them.
 */
export function serveWorkerTasks<Setup, Task, Result, Info>(
  open: (setup: Setup) => Promise<WorkerHandler<Task, Result, Info>>,
): void {
  const port = parentPort;
  if (!port) throw new Error('serveWorkerTasks must run in a worker thread.');
  const post = (message: WorkerMessage<Result, Info>, transfer: ArrayBuffer[] = []) =>
    port.postMessage(message, transfer);
  Logger.overrideLogger(new ForwardingLogger(port));
  open(workerData as Setup).then(
    (handler) => {
      port.on('message', ({ id, task }: TaskMessage<Task>) => {
        handler.handle(task).then(
          ({ result, transfer }) => post({ type: 'result', id, result }, transfer),
          (error: unknown) => post({ type: 'error', id, error: serializeError(error) }),
        );
      });
      post({ type: 'ready', info: handler.info });
    },
    (error: unknown) => post({ type: 'failed', error: serializeError(error) }),
  );
}
