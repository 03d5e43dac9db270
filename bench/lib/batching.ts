import { type ResolvedModel } from '@app/inference';
import { loadTfjsLayersModel } from '@app/inference/runtimes/float-model-runtime';
import { convertLayersModelToOnnx } from '@app/keras';
import { loadOnnxRuntime } from '@app/inference/runtimes/onnxruntime-loader';

export interface BatchCost {
  batch: number;
  msPerImage: number;
}

/**
 * Whether batching would pay: onnxruntime (one thread) on the converted float model, per-image time at
 * batch 1 and batch 8, same input values. The service batches only if the second is clearly lower.
 */
export async function measureBatchCost(resolved: ResolvedModel, seconds: number): Promise<BatchCost[]> {
  const ort = loadOnnxRuntime().module;
  if (!ort) return [];
  const { model } = await loadTfjsLayersModel(resolved);
  const { bytes } = convertLayersModelToOnnx(model);
  model.dispose();
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const { height, width } = resolved.manifest.input;
  const costs: BatchCost[] = [];
  try {
    for (const batch of [1, 8]) {
      const data = new Float32Array(batch * height * width * 3).map((_, i) => (i % 255) / 255);
      const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', data, [batch, height, width, 3]) };
      for (let i = 0; i < 3; i++) await session.run(feeds);
      let images = 0;
      const started = performance.now();
      while (performance.now() - started < seconds * 1000) {
        await session.run(feeds);
        images += batch;
      }
      costs.push({ batch, msPerImage: (performance.now() - started) / images });
    }
  } finally {
    await session.release();
  }
  return costs;
}
