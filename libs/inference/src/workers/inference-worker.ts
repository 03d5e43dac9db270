import {
  ImageInference,
  type InferenceInfo,
  type InferenceReply,
  type InferenceTask,
} from './image-inference';
import type { InferenceWorkerSetup } from './inference-scheduler';
import { fromPlainModel } from './plain-model';
import { serveWorkerTasks } from './serve-worker-tasks';
import { yieldCpuToEventLoop } from './yield-cpu';

/** Worker thread entry: loads its own copy of the model, then turns image bytes into scores. */
serveWorkerTasks<InferenceWorkerSetup, InferenceTask, InferenceReply, InferenceInfo>(async (setup) => {
  yieldCpuToEventLoop();
  const inference = await ImageInference.open(fromPlainModel(setup.model), setup);
  return {
    info: inference.info,
    handle: async (task) => {
      const result = await inference.run(task);
      const transfer = [result.scores.buffer as ArrayBuffer];
      if (result.modelInput) transfer.push(result.modelInput.data.buffer);
      return { result, transfer };
    },
  };
});
