import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as TfCore from '@tensorflow/tfjs-core';
import { writeKerasH5, type KerasH5Content } from '../../../../test/support/keras-h5-writer';
import { referenceForward, type Json } from '../../../../test/support/keras-reference';
import { kerasReplica } from '../../../../test/support/keras-replica';
import { convertLayersModelToOnnx } from '../../../keras/src/onnx/layers-to-onnx';
import { OnnxRuntime } from './onnx-runtime';
import { selectTfjsBackend } from './tfjs-backend';
import { loadKerasH5Model } from '../../../keras/src/h5/keras-h5-model';
import type { LambdaLayerMap } from '../../../keras/src/h5/lambda-layers';

/*
 * Model configs in the exact form Keras 2.x `model.save('x.h5')` writes them (`get_network_config`), for the
 * structures transfer-learning models have: a Sequential inside a Functional, a nested model called twice,
 * a shared layer, `training` call arguments, a float16 InputLayer, mixed_float16 layers and a float32 output.
 */
const MIXED = { class_name: 'Policy', config: { name: 'mixed_float16' } };
const SIZE = 6;
type Node = Array<[string, number, number, Json]>;

const input = (name: string, dtype: unknown = 'float32', shape: unknown[] = [null, SIZE, SIZE, 3]): Json => ({
  class_name: 'InputLayer',
  config: { batch_input_shape: shape, dtype, sparse: false, ragged: false, name },
  name,
  inbound_nodes: [],
});
const entry = (
  className: string,
  name: string,
  config: Json,
  nodes?: Node[],
  dtype: unknown = MIXED,
): Json => ({
  class_name: className,
  config: { name, trainable: true, dtype, ...config },
  ...(nodes ? { name, inbound_nodes: nodes } : {}),
});
const conv = (name: string, filters: number, kernel: number, nodes?: Node[], trainable = true): Json => {
  const layer = entry(
    'Conv2D',
    name,
    {
      filters,
      kernel_size: [kernel, kernel],
      strides: [1, 1],
      padding: 'same',
      data_format: 'channels_last',
      dilation_rate: [1, 1],
      groups: 1,
      activation: 'swish',
      use_bias: true,
      kernel_initializer: { class_name: 'GlorotUniform', config: { seed: null } },
      bias_initializer: { class_name: 'Zeros', config: {} },
      kernel_regularizer: null,
      bias_regularizer: null,
      activity_regularizer: null,
      kernel_constraint: null,
      bias_constraint: null,
    },
    nodes,
  );
  (layer.config as Json).trainable = trainable;
  return layer;
};
const bn = (name: string, nodes?: Node[]): Json =>
  entry(
    'BatchNormalization',
    name,
    { axis: [3], momentum: 0.99, epsilon: 0.001, center: true, scale: true },
    nodes,
  );
const dense = (name: string, units: number, nodes: Node[], activation = 'linear'): Json =>
  entry('Dense', name, { units, activation, use_bias: true }, nodes);
const gap = (name: string, nodes: Node[]): Json =>
  entry('GlobalAveragePooling2D', name, { data_format: 'channels_last', keepdims: false }, nodes);
const softmax32 = (name: string, nodes: Node[]): Json =>
  entry('Activation', name, { activation: 'softmax' }, nodes, 'float32');
const functional = (
  name: string,
  layers: Json[],
  inputs: unknown[],
  outputs: unknown[],
  nodes?: Node[],
): Json => ({
  class_name: 'Functional',
  config: { name, layers, input_layers: inputs, output_layers: outputs },
  ...(nodes ? { name, inbound_nodes: nodes } : {}),
});

/** input(float16) → Sequential[InputLayer, conv(frozen), conv, bn](training=False) → pooling → dense → softmax float32. */
function sequentialInFunctional(): Json {
  const sequential = {
    class_name: 'Sequential',
    config: {
      name: 'features',
      layers: [
        input('features_input'),
        conv('frozen_conv', 4, 3, undefined, false),
        conv('tuned_conv', 5, 1),
        bn('features_bn'),
      ],
    },
    name: 'features',
    inbound_nodes: [[['input_layer', 0, 0, { training: false }]]],
  };
  return functional(
    'model',
    [
      input('input_layer', 'float16'),
      sequential,
      gap('pooling_layer', [[['features', 1, 0, {}]]]),
      dense('dense', 7, [[['pooling_layer', 0, 0, {}]]]),
      softmax32('softmax_float32', [[['dense', 0, 0, {}]]]),
    ],
    [['input_layer', 0, 0]],
    [['softmax_float32', 0, 0]],
  );
}

/** A base model called on the image and on its inverse (nodes 1 and 2), summed, then a Dense applied twice. */
function calledTwiceAndShared(): Json {
  const base = functional(
    'base',
    [
      input('base_input', 'float32', [null, null, null, 3]),
      conv('base_conv', 4, 3, [[['base_input', 0, 0, {}]]]),
      bn('base_bn', [[['base_conv', 0, 0, {}]]]),
    ],
    [['base_input', 0, 0]],
    [['base_bn', 0, 0]],
    [[['image', 0, 0, { training: false }]], [['inverted', 0, 0, { training: false }]]],
  );
  return functional(
    'siamese',
    [
      input('image'),
      entry('Rescaling', 'inverted', { scale: -1 / 255, offset: 1 }, [[['image', 0, 0, {}]]]),
      base,
      entry('Add', 'both', {}, [
        [
          ['base', 1, 0, {}],
          ['base', 2, 0, {}],
        ],
      ]),
      gap('pooling', [[['both', 0, 0, {}]]]),
      dense('shared', 4, [[['pooling', 0, 0, {}]], [['shared', 0, 0, {}]]]),
      dense('logits', 6, [[['shared', 1, 0, {}]]], 'softmax'),
    ],
    [['image', 0, 0]],
    [['logits', 0, 0]],
  );
}

function pixels(seed: number): Float32Array<ArrayBuffer> {
  let state = seed >>> 0;
  return new Float32Array(SIZE * SIZE * 3).map(() => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return (state / 2 ** 32) * 255;
  });
}

describe('Keras 2.x structures, loaded as Keras reads them', () => {
  let tf: typeof TfCore;
  let dir: string;
  beforeAll(async () => {
    ({ tf } = await selectTfjsBackend());
    dir = mkdtempSync(join(tmpdir(), 'keras-structures-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function check(
    name: string,
    config: Json,
    content?: (replica: KerasH5Content) => KerasH5Content,
    lambdaLayers: LambdaLayerMap = {},
  ) {
    const lambdas = Object.fromEntries(
      Object.entries(lambdaLayers).map(([layer, op]) => [
        layer,
        (x: number) => Math.min(op.max, Math.max(op.min, x)),
      ]),
    );
    const replica = kerasReplica(config, { seed: 5, withOptimizer: true, lambdas });
    const path = join(dir, `${name}.h5`);
    await writeKerasH5(path, content ? content(replica.content) : replica.content);
    const { model } = await loadKerasH5Model(tf, path, undefined, { lambdaLayers });
    const { bytes } = convertLayersModelToOnnx(model);
    const onnx = await OnnxRuntime.load(bytes, name, { threads: 1 });
    try {
      for (const seed of [1, 2]) {
        const data = pixels(seed);
        const expected = referenceForward(config, { shape: [SIZE, SIZE, 3], data }, replica.weights, {
          lambdas,
        }).data;
        const input = tf.tensor4d(data, [1, SIZE, SIZE, 3]);
        const output = model.predict(input) as TfCore.Tensor;
        const fromTfjs = await output.data();
        tf.dispose([input, output]);
        const fromOnnx = await onnx.run({ data, shape: [1, SIZE, SIZE, 3] });
        for (const actual of [fromTfjs, fromOnnx]) {
          expect(actual.length).toBe(expected.length);
          expect(Math.max(...Array.from(actual, (v, i) => Math.abs(v - expected[i])))).toBeLessThan(1e-5);
        }
      }
    } finally {
      onnx.dispose();
      model.dispose();
    }
    return replica;
  }

  it('a Sequential inside a Functional, a frozen layer, a float16 InputLayer and a float32 softmax', async () => {
    const replica = await check('sequential', sequentialInFunctional());
    // _legacy_weights of the Sequential: trainable weights of its layers, then the rest (the frozen conv too).
    expect(replica.content.layers[1].weights.map((w) => w.name)).toEqual([
      'tuned_conv/kernel:0',
      'tuned_conv/bias:0',
      'features_bn/gamma:0',
      'features_bn/beta:0',
      'frozen_conv/kernel:0',
      'frozen_conv/bias:0',
      'features_bn/moving_mean:0',
      'features_bn/moving_variance:0',
    ]);
  });

  it('pairs weights by their order when their names do not match the layers (a layer renamed after building)', async () => {
    await check('renamed', sequentialInFunctional(), (content) => ({
      ...content,
      layers: content.layers.map((layer) => ({
        ...layer,
        weights: layer.weights.map((w) => ({ ...w, name: `old_${w.name}` })),
      })),
    }));
  });

  it('a nested model called twice (nodes 1 and 2) and a layer shared by two calls (nodes 0 and 1)', async () => {
    await check('siamese', calledTwiceAndShared());
  });

  it('a Lambda layer the manifest maps to clip, as in ST’s EfficientNet-LC squeeze-excite branches', async () => {
    const config = calledTwiceAndShared();
    const layers = (config.config as { layers: Json[] }).layers;
    const lambda: Json = {
      class_name: 'Lambda',
      config: {
        name: 'lambda_3',
        trainable: true,
        dtype: 'float32',
        function: ['4wEAAAAAAAAA', null, null],
        function_type: 'lambda',
        module: 'custom_model',
        output_shape: null,
        output_shape_type: 'raw',
        output_shape_module: null,
        arguments: {},
      },
      name: 'lambda_3',
      inbound_nodes: [[['both', 0, 0, {}]]],
    };
    layers.splice(4, 0, lambda);
    layers[5].inbound_nodes = [[['lambda_3', 0, 0, {}]]];
    await check('lambda', config, undefined, { lambda_3: { op: 'clip', min: -0.5, max: 0.5 } });
  });

  it('chunked layer_names, as Keras splits a long list', async () => {
    await check('chunked', calledTwiceAndShared(), (content) => ({ ...content, layerNameChunks: 3 }));
  });
});
