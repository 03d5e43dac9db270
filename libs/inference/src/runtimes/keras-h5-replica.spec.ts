import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as TfCore from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { writeKerasH5 } from '../../../../test/support/keras-h5-writer';
import { referenceForward, type Tensor } from '../../../../test/support/keras-reference';
import {
  EFFICIENTNETB0_CONFIG_PATH,
  kerasReplica,
  readModelConfig,
  type Replica,
} from '../../../../test/support/keras-replica';
import { convertLayersModelToOnnx } from '../../../keras/src/onnx/layers-to-onnx';
import { OnnxRuntime } from './onnx-runtime';
import { selectTfjsBackend } from './tfjs-backend';
import { loadKerasH5Model } from '../../../keras/src/h5/keras-h5-model';

/** The config's own input size: the replica's config is the real one, unmodified. */
const SIZE = 224;

function pixels(seed: number, count: number): Float32Array<ArrayBuffer> {
  let state = seed >>> 0;
  return new Float32Array(count).map(() => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return Math.floor((state / 2 ** 32) * 256);
  });
}

const argmax = (values: ArrayLike<number>): number =>
  Array.from(values).reduce((best, value, i, all) => (value > all[best] ? i : best), 0);
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number =>
  Math.max(...Array.from(a, (value, i) => Math.abs(value - b[i])));

describe('a weight-random replica of the default model, built from its real Keras 2.7 config', () => {
  let tf: typeof TfCore;
  let dir: string;
  let replica: Replica;
  let model: LayersModel;
  const images: Tensor[] = [1, 2].map((seed) => ({
    shape: [SIZE, SIZE, 3],
    data: pixels(seed, SIZE * SIZE * 3),
  }));
  let expected: Float32Array[];

  beforeAll(async () => {
    ({ tf } = await selectTfjsBackend());
    dir = mkdtempSync(join(tmpdir(), 'keras-replica-'));
    replica = kerasReplica(readModelConfig(EFFICIENTNETB0_CONFIG_PATH), {
      seed: 12,
      withOptimizer: true,
    });
    const path = join(dir, 'efficientnetb0-replica.h5');
    await writeKerasH5(path, replica.content);
    ({ model } = await loadKerasH5Model(tf, path));
    expected = images.map((image) => referenceForward(replica.modelConfig, image, replica.weights).data);
  }, 180_000);

  afterAll(() => {
    model?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is written as Keras writes it: node 1 for the nested base, training=False, mixed_float16, optimizer state', () => {
    const outer = (replica.modelConfig.config as { layers: Array<{ name: string; inbound_nodes: unknown }> })
      .layers;
    expect(outer.find((layer) => layer.name === 'pooling_layer')?.inbound_nodes).toEqual([
      [['efficientnetb0', 1, 0, {}]],
    ]);
    expect(outer.find((layer) => layer.name === 'efficientnetb0')?.inbound_nodes).toEqual([
      [['input_layer', 0, 0, { training: false }]],
    ]);
    expect(replica.modelConfig).toEqual(readModelConfig(EFFICIENTNETB0_CONFIG_PATH));
    expect(JSON.stringify(replica.modelConfig)).toContain('mixed_float16');
    const base = replica.content.layers.find((layer) => layer.name === 'efficientnetb0')!;
    // _legacy_weights: every trainable weight of the base first, then the batch-norm and Normalization statistics.
    const names = base.weights.map((weight) => weight.name);
    expect(names[0]).toBe('stem_conv/kernel:0');
    expect(names.indexOf('normalization/mean:0')).toBeGreaterThan(names.lastIndexOf('top_bn/beta:0'));
    expect(replica.content.optimizerWeights?.length).toBeGreaterThan(0);
  });

  it('computes what the independent reference computes, within 1e-4, same top-1 (TF.js)', async () => {
    expect(model.layers.map((layer) => layer.name)).toEqual([
      'input_layer',
      'efficientnetb0',
      'pooling_layer',
      'dense',
      'output_layer',
    ]);
    for (const [i, image] of images.entries()) {
      const input = tf.tensor4d(image.data, [1, SIZE, SIZE, 3]);
      const output = model.predict(input) as TfCore.Tensor;
      const actual = await output.data();
      tf.dispose([input, output]);
      const diff = maxDiff(actual, expected[i]);
      console.info(
        `replica vs reference (tfjs), image ${i}: max abs diff ${diff.toExponential(2)}, top-1 p ${Math.max(...expected[i]).toFixed(4)}`,
      );
      expect(diff).toBeLessThanOrEqual(1e-4);
      expect(argmax(actual)).toBe(argmax(expected[i]));
    }
    // The reference is not degenerate: the two images get different answers and a non-uniform softmax.
    expect(maxDiff(expected[0], expected[1])).toBeGreaterThan(1e-3);
    expect(Math.max(...expected[0])).toBeGreaterThan(2 / 101);
  });

  it('computes what the independent reference computes, within 1e-4, same top-1 (onnxruntime)', async () => {
    const { bytes } = convertLayersModelToOnnx(model);
    const runtime = await OnnxRuntime.load(bytes, 'efficientnetb0-replica', { threads: 1 });
    try {
      for (const [i, image] of images.entries()) {
        const actual = await runtime.run({ data: image.data, shape: [1, SIZE, SIZE, 3] });
        const diff = maxDiff(actual, expected[i]);
        console.info(`replica vs reference (onnxruntime), image ${i}: max abs diff ${diff.toExponential(2)}`);
        expect(diff).toBeLessThanOrEqual(1e-4);
        expect(argmax(actual)).toBe(argmax(expected[i]));
      }
    } finally {
      runtime.dispose();
    }
  });
});
