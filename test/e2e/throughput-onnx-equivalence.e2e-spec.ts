import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImageDecoder } from '@app/imaging';
import { resolveModel, type ModelRuntime, type ResolvedModel } from '@app/inference';
import { createRuntime } from '@app/inference/runtimes/create-runtime';
import { toModelInput } from '@app/inference/processing/to-model-input';
import { toProbabilities } from '@app/inference/processing/probabilities';
import { FIXTURE_MODELS, foodPhotos, type FixtureModel } from '../support/shared-data';

/**
 * Every float fixture model, converted at load to ONNX for onnxruntime, must give the probabilities TF.js gives
 * (within 1e-4) on the real photos, so switching engines changes speed and nothing else.
 */
const FLOAT_MODELS: Array<[string, FixtureModel]> = [
  ['the TF.js layers MobileNetV2 (nsfwjs)', FIXTURE_MODELS.mobilenetV2Tfjs],
  ['the Keras .h5 Food-101 MobileNetV2', FIXTURE_MODELS.food101KerasH5],
];

const decoder = new ImageDecoder({ maxPixels: 40_000_000 });

describe.each(FLOAT_MODELS)('%s on onnxruntime and on tfjs', (_name, fixture) => {
  let resolved: ResolvedModel;
  let onnx: ModelRuntime;
  let tfjs: ModelRuntime;

  beforeAll(async () => {
    resolved = await resolveModel({ manifestPath: fixture.manifest, modelDir: fixture.dir });
    onnx = await createRuntime(resolved, { floatEngine: 'onnxruntime', threads: 1 });
    tfjs = await createRuntime(resolved, { floatEngine: 'tfjs', threads: 1 });
  });

  afterAll(() => {
    onnx?.dispose();
    tfjs?.dispose();
  });

  it('runs the converted graph on onnxruntime, and the original on tfjs', () => {
    expect({ engine: onnx.engine, backend: onnx.backend }).toEqual({ engine: 'onnxruntime', backend: 'cpu' });
    expect(tfjs.engine).toBe('tfjs');
    expect(onnx.inputShape.slice(1)).toEqual(tfjs.inputShape.slice(1));
    expect(onnx.outputSize).toBe(resolved.labels.length);
  });

  it('gives the same probabilities (within 1e-4) and the same top class on every real photo', async () => {
    const { input, output } = resolved.manifest;
    let largest = 0;
    for (const photo of foodPhotos()) {
      const image = await decoder.decode(readFileSync(photo.path), {
        width: input.width,
        height: input.height,
        method: input.resize.method,
        fit: input.resize.fit,
      });
      const modelInput = toModelInput(image, input);
      const expected = toProbabilities(await tfjs.run(modelInput), output.kind);
      const actual = toProbabilities(await onnx.run(modelInput), output.kind);
      for (let i = 0; i < expected.length; i++)
        largest = Math.max(largest, Math.abs(actual[i] - expected[i]));
      const top = (values: Float64Array) => values.indexOf(Math.max(...values));
      expect(resolved.labels[top(actual)], photo.file).toBe(resolved.labels[top(expected)]);
    }
    expect(largest).toBeLessThan(1e-4);
  });
});
