import { context, type Attributes, type Span } from '@opentelemetry/api';
import { endSpan, failSpan, recordStages, recordingSpan, startSpan, traceparentOf } from '@app/telemetry';
import type { InferenceReply, InferenceTask } from './workers/image-inference';

/** Runs a task through the admission queue; `onStart` fires as it leaves the queue for a worker. */
export type TaskRunner = (task: InferenceTask, onStart?: () => void) => Promise<InferenceReply>;

/**
 * Runs `task`, and when its request is traced records where the time went: `inference.queue` (waiting for a free
 * worker), then `inference.worker` (from the task's dispatch to its reply), whose `traceparent` travels in the task
 * message so that the worker's own steps (decode, resize, preprocess, model run) become its children with the
 * times the worker read. Untraced, the task runs as it is.
 */
export async function runTraced(
  task: InferenceTask,
  run: TaskRunner,
  attributes: Attributes,
): Promise<InferenceReply> {
  if (!recordingSpan()) return run(task);
  // The task may leave the queue while another request's work is being finished: name the parent now.
  const parent = context.active();
  const queue = startSpan('inference.queue', { attributes, parent });
  let worker: Span | undefined;
  try {
    const reply = await run(task, () => {
      endSpan(queue);
      worker = startSpan('inference.worker', { attributes, parent });
      task.traceparent = traceparentOf(worker);
    });
    if (task.traceparent !== undefined && reply.stages) recordStages(task.traceparent, reply.stages);
    return reply;
  } catch (error) {
    failSpan(worker ?? queue, error);
    throw error;
  } finally {
    if (worker === undefined) endSpan(queue);
    if (worker !== undefined) endSpan(worker);
  }
}

/** Runs the main thread's last step (scores to probabilities and top-k) in a `model.postprocess` span when traced. */
export function postprocessTraced<T>(attributes: Attributes, work: () => T): T {
  if (!recordingSpan()) return work();
  const span = startSpan('model.postprocess', { attributes });
  try {
    return work();
  } catch (error) {
    failSpan(span, error);
    throw error;
  } finally {
    endSpan(span);
  }
}
