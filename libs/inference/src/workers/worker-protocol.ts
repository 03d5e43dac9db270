import type { LogLevel } from '@nestjs/common';
import type { SerializedError } from './serialized-error';

/** Main thread → worker: one task to run. */
export interface TaskMessage<Task> {
  id: number;
  task: Task;
}

/** Worker → main thread. A worker says `ready` (or `failed`) once, then answers each task by id; `log` any time, `stage` while loading. */
export type WorkerMessage<Result, Info> =
  | { type: 'log'; level: LogLevel; message: string; context?: string }
  | { type: 'stage'; stage: string }
  | { type: 'ready'; info: Info }
  | { type: 'failed'; error: SerializedError }
  | { type: 'result'; id: number; result: Result }
  | { type: 'error'; id: number; error: SerializedError };
