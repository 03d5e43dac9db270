import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as TfCore from '@tensorflow/tfjs-core';
import type * as TfLayers from '@tensorflow/tfjs-layers';
import { efficientNetLikeFile, INPUT_SIZE } from '../../../../test/support/efficientnet-like-keras';
import { writeKerasH5 } from '../../../../test/support/keras-h5-writer';
import { loadKerasH5Model } from '../../../keras/src/h5/keras-h5-model';
import { selectTfjsBackend } from './tfjs-backend';
import { UnsupportedLayerError } from '../../../keras/src/onnx/conversion-context';
import { convertLayersModelToOnnx } from '../../../keras/src/onnx/layers-to-onnx';
import { OnnxRuntime } from './onnx-runtime';

let tf: typeof TfCore;
let tfl: typeof TfLayers;

function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** Replaces every weight with seeded values (variances positive), so the test does not depend on initialisers. */
function seedWeights(model: TfLayers.LayersModel, seed: number): void {
  const next = random(seed);
  for (const layer of model.layers) {
    const weights = layer.weights.map((variable) => {
      const shape = variable.shape as number[];
      const size = shape.reduce((a, b) => a * b, 1);
      const positive = /variance/.test(variable.originalName);
      const values = Float32Array.from(
        { length: size },
        () => (positive ? 0.5 + next() : next() * 2 - 1) * 0.6,
      );
      return tf.tensor(values, shape);
    });
    if (weights.length > 0) layer.setWeights(weights);
  }
}

/** Runs the converted model and TF.js on the same seeded inputs; returns the largest difference. */
async function largestDifference(model: TfLayers.LayersModel, seed = 1): Promise<number> {
  const { bytes } = convertLayersModelToOnnx(model);
  const runtime = await OnnxRuntime.load(bytes, model.name, { threads: 1 });
  const [, height, width, channels] = model.inputs[0].shape as number[];
  const next = random(seed);
  let largest = 0;
  try {
    for (let sample = 0; sample < 3; sample++) {
      const data = Float32Array.from({ length: height * width * channels }, () => next() * 2 - 1);
      const output = model.predict(tf.tensor(data, [1, height, width, channels])) as TfCore.Tensor;
      const expected = await output.data();
      output.dispose();
      const actual = await runtime.run({ data, shape: [1, height, width, channels] });
      expect(actual.length).toBe(expected.length);
      for (let i = 0; i < expected.length; i++) {
        largest = Math.max(largest, Math.abs(actual[i] - expected[i]) / Math.max(1, Math.abs(expected[i])));
      }
    }
  } finally {
    runtime.dispose();
  }
  return largest;
}

beforeAll(async () => {
  ({ tf } = await selectTfjsBackend());
  tfl = await import('@tensorflow/tfjs-layers');
});

describe('convertLayersModelToOnnx', () => {
  it('converts a MobileNetV2-style block: asymmetric padding, strides, depthwise with a multiplier, BN, ReLU6, residual add', async () => {
    const input = tfl.input({ shape: [9, 9, 3] });
    const padded = tfl.layers
      .zeroPadding2d({
        padding: [
          [0, 1],
          [0, 1],
        ],
      })
      .apply(input);
    let x = tfl.layers
      .conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'valid', useBias: false })
      .apply(padded);
    x = tfl.layers.batchNormalization({ epsilon: 1e-3 }).apply(x);
    const stem = tfl.layers.reLU({ maxValue: 6 }).apply(x);
    x = tfl.layers
      .depthwiseConv2d({ kernelSize: 3, padding: 'same', depthMultiplier: 2, useBias: true })
      .apply(stem);
    x = tfl.layers.batchNormalization().apply(x);
    x = tfl.layers.activation({ activation: 'relu6' }).apply(x);
    x = tfl.layers.conv2d({ filters: 8, kernelSize: 1, padding: 'same' }).apply(x);
    x = tfl.layers.add().apply([x, stem] as TfLayers.SymbolicTensor[]);
    x = tfl.layers.globalAveragePooling2d({}).apply(x);
    x = tfl.layers.dropout({ rate: 0.5 }).apply(x);
    const output = tfl.layers.dense({ units: 5, activation: 'softmax' }).apply(x) as TfLayers.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: output });
    seedWeights(model, 11);
    expect(await largestDifference(model)).toBeLessThan(1e-4);
  });

  it('converts strided SAME convolutions on odd sizes, pooling, concatenation, separable conv, flatten and 2-D batch norm', async () => {
    const input = tfl.input({ shape: [11, 10, 3] });
    const x = tfl.layers
      .conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'swish' })
      .apply(input);
    const maxed = tfl.layers.maxPooling2d({ poolSize: 3, strides: 1, padding: 'same' }).apply(x);
    const averaged = tfl.layers.averagePooling2d({ poolSize: 3, strides: 1, padding: 'same' }).apply(x);
    let y = tfl.layers.concatenate({ axis: -1 }).apply([maxed, averaged] as TfLayers.SymbolicTensor[]);
    y = tfl.layers
      .separableConv2d({ filters: 6, kernelSize: 3, padding: 'same', activation: 'tanh' })
      .apply(y);
    y = tfl.layers.maxPooling2d({ poolSize: 2, strides: 2, padding: 'valid' }).apply(y);
    y = tfl.layers.flatten().apply(y);
    y = tfl.layers.dense({ units: 7, activation: 'sigmoid' }).apply(y);
    y = tfl.layers.batchNormalization().apply(y);
    const output = tfl.layers.dense({ units: 3, activation: 'softmax' }).apply(y) as TfLayers.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: output });
    seedWeights(model, 12);
    expect(await largestDifference(model)).toBeLessThan(1e-4);
  });

  it('converts a squeeze-excite block (Reshape, Multiply), Rescaling, LeakyReLU, ELU, hard sigmoid and logits', async () => {
    const input = tfl.input({ shape: [6, 6, 3] });
    let x = tfl.layers.rescaling({ scale: 1 / 127.5, offset: -1 }).apply(input);
    x = tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same' }).apply(x);
    x = tfl.layers.leakyReLU({ alpha: 0.1 }).apply(x);
    let se = tfl.layers.globalAveragePooling2d({}).apply(x);
    se = tfl.layers.dense({ units: 2, activation: 'relu' }).apply(se);
    se = tfl.layers.dense({ units: 4, activation: 'hardSigmoid' }).apply(se);
    se = tfl.layers.reshape({ targetShape: [1, 1, 4] }).apply(se);
    x = tfl.layers.multiply().apply([x, se] as TfLayers.SymbolicTensor[]);
    x = tfl.layers.elu().apply(x);
    x = tfl.layers.globalMaxPooling2d({}).apply(x);
    const output = tfl.layers.dense({ units: 3 }).apply(x) as TfLayers.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: output });
    seedWeights(model, 13);
    expect(await largestDifference(model)).toBeLessThan(1e-4);
  });

  it('inlines a model used as a layer (a pretrained base inside a classifier)', async () => {
    const baseInput = tfl.input({ shape: [8, 8, 3] });
    const baseOutput = tfl.layers.conv2d({ filters: 4, kernelSize: 3, activation: 'relu' }).apply(baseInput);
    const base = tfl.model({
      inputs: baseInput,
      outputs: baseOutput as TfLayers.SymbolicTensor,
      name: 'base',
    });
    const input = tfl.input({ shape: [8, 8, 3] });
    let x = base.apply(input) as TfLayers.SymbolicTensor;
    x = tfl.layers.globalAveragePooling2d({}).apply(x) as TfLayers.SymbolicTensor;
    const output = tfl.layers.dense({ units: 2, activation: 'softmax' }).apply(x) as TfLayers.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: output });
    seedWeights(base, 14);
    seedWeights(model, 15);
    expect(await largestDifference(model)).toBeLessThan(1e-4);
  });

  it('refuses a layer it cannot express, naming it, so the model stays on tfjs', () => {
    const input = tfl.input({ shape: [4, 4, 3] });
    const x = tfl.layers.upSampling2d({ size: [2, 2], name: 'grow' }).apply(input);
    const output = tfl.layers.flatten().apply(x) as TfLayers.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: output });
    expect(() => convertLayersModelToOnnx(model)).toThrow(UnsupportedLayerError);
    expect(() => convertLayersModelToOnnx(model)).toThrow(/layer "grow" \(UpSampling2D\)/);
  });

  describe('a Keras .h5 model shaped like EfficientNetB0 (Normalization, swish, squeeze-excite, keepdims pooling, nested base)', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'onnx-keras-'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('gives the same output as TF.js', async () => {
      const path = join(dir, 'efficientnet-like.h5');
      await writeKerasH5(path, efficientNetLikeFile(7));
      const { model } = await loadKerasH5Model(tf, path);
      expect(model.inputs[0].shape).toEqual([null, INPUT_SIZE, INPUT_SIZE, 3]);
      // The model rescales 0..255 input itself: feed it pixel-like values.
      const { bytes } = convertLayersModelToOnnx(model);
      const runtime = await OnnxRuntime.load(bytes, 'efficientnet-like', { threads: 1 });
      const next = random(3);
      const data = Float32Array.from({ length: INPUT_SIZE * INPUT_SIZE * 3 }, () => Math.floor(next() * 256));
      const output = model.predict(tf.tensor(data, [1, INPUT_SIZE, INPUT_SIZE, 3])) as TfCore.Tensor;
      const expected = await output.data();
      const actual = await runtime.run({ data, shape: [1, INPUT_SIZE, INPUT_SIZE, 3] });
      runtime.dispose();
      expect(actual.length).toBe(expected.length);
      expect(Math.max(...Array.from(actual, (value, i) => Math.abs(value - expected[i])))).toBeLessThan(1e-4);
    });
  });
});
