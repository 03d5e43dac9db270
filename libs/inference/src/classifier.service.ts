import { Injectable } from '@nestjs/common';
import { problem } from '@app/problem';
import type { ModelInputSpec } from './manifest/model-manifest';
import { ModelLoader } from './model-loader.provider';
import { NonFiniteOutputError, toProbabilities, topK } from './postprocess/probabilities';
import { toModelInput, type RgbImage } from './postprocess/to-model-input';

export interface ClassPrediction {
  index: number;
  label: string;
  displayName: string;
  confidence: number;
}

export interface Classification {
  model: { name: string; version: string };
  predictions: ClassPrediction[];
  inferenceMs: number;
}

/** Classifies pixels with the ready model: model input, inference, probabilities, top-k. */
@Injectable()
export class ClassifierService {
  constructor(private readonly models: ModelLoader) {}

  /** What the image must be resized to before `classify` (throws 503 while no model is ready). */
  inputSpec(): ModelInputSpec {
    return this.models.ready().resolved.manifest.input;
  }

  labelCount(): number {
    return this.models.ready().resolved.labels.length;
  }

  async classify(image: RgbImage, k: number): Promise<Classification> {
    const { resolved, runtime } = this.models.ready();
    const started = performance.now();
    const scores = await runtime.run(toModelInput(image, resolved.manifest.input));
    const inferenceMs = performance.now() - started;
    let probabilities: Float64Array;
    try {
      probabilities = toProbabilities(scores, resolved.manifest.output.kind);
    } catch (error) {
      if (error instanceof NonFiniteOutputError) throw problem('internal_error', error.message);
      throw error;
    }
    const predictions = topK(probabilities, k).map((index) => ({
      index,
      label: resolved.labels[index],
      displayName: resolved.displayNames[index],
      confidence: probabilities[index],
    }));
    return {
      model: { name: resolved.manifest.name, version: resolved.manifest.version },
      predictions,
      inferenceMs,
    };
  }
}
