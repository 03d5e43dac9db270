import type { LogLevel } from '@nestjs/common';
import type { SerializedError } from './serialized-error';

/** Main thread → worker: one task to run. */
export interface TaskMessage<Task> {
  type: 'task';
  id: number;
  task: Task;
}

/**
 * Main thread → worker: exit once nothing is running (after the load or the current task settles). Stopping a
 * worker this way, rather than with `terminate()` mid-call, matters for N-API addons (onnxruntime-node, sharp):
 * a call cut off by termination cannot throw its error into JavaScript, and node-addon-api then aborts the
 * whole process ("terminate called after throwing an instance of 'Napi::Error'").
 */
export interface StopMessage {
  type: 'stop';
}

export type MainToWorkerMessage<Task> = TaskMessage<Task> | StopMessage;

/** Worker → main thread. A worker says `ready` (or `failed`) once, then answers each task by id; `log` any time, `stage` while loading. */
export type WorkerMessage<Result, Info> =
  | { type: 'log'; level: LogLevel; message: string; context?: string }
  | { type: 'stage'; stage: string }
  | { type: 'ready'; info: Info }
  | { type: 'failed'; error: SerializedError }
  | { type: 'result'; id: number; result: Result }
  | { type: 'error'; id: number; error: SerializedError };
