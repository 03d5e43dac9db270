import type * as TfCore from '@tensorflow/tfjs-core';
import type { KerasH5Content, KerasWeight } from './keras-h5-writer';

/**
 * A small model with the layers Keras 2.x EfficientNetB0 and the seed's Food Vision model contain, written
 * as Keras would save it: an outer Functional model that calls a nested Functional "efficientnetb0"
 * (`training=False`), Rescaling and Normalization preprocessing, ZeroPadding2D + strided Conv2D, swish,
 * DepthwiseConv2D, a squeeze-excite block (GlobalAveragePooling2D, Reshape, Conv2D, Multiply), Dropout, Add,
 * GlobalAveragePooling2D with keepdims, a `mixed_float16` dtype policy and a float32 softmax on top.
 * `reference` computes the same function with plain TF.js ops, independently of any layer code.
 */
export const INPUT_SIZE = 8;
const CHANNELS = 4;
const SE_CHANNELS = 2;
const CLASSES = 5;
const BN_EPSILON = 1.001e-5;
const RESCALE = 1 / 255;

const BASE_MODEL = 'efficientnetb0';
const MIXED = { class_name: 'Policy', config: { name: 'mixed_float16' } };

function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

interface Params {
  normMean: Float32Array;
  normVariance: Float32Array;
  stemKernel: Float32Array;
  stemBn: BatchNorm;
  dwKernel: Float32Array;
  dwBn: BatchNorm;
  seReduceKernel: Float32Array;
  seReduceBias: Float32Array;
  seExpandKernel: Float32Array;
  seExpandBias: Float32Array;
  projectKernel: Float32Array;
  projectBn: BatchNorm;
  denseKernel: Float32Array;
  denseBias: Float32Array;
}

interface BatchNorm {
  gamma: Float32Array;
  beta: Float32Array;
  mean: Float32Array;
  variance: Float32Array;
}

function makeParams(seed: number): Params {
  const next = random(seed);
  const values = (count: number, scale = 0.5, offset = 0) =>
    Float32Array.from({ length: count }, () => offset + (next() * 2 - 1) * scale);
  const batchNorm = (count: number): BatchNorm => ({
    gamma: values(count, 0.3, 1),
    beta: values(count, 0.2),
    mean: values(count, 0.2),
    variance: values(count, 0.2, 0.8),
  });
  return {
    normMean: Float32Array.from([0.485, 0.456, 0.406]),
    normVariance: Float32Array.from([0.229 ** 2, 0.224 ** 2, 0.225 ** 2]),
    stemKernel: values(3 * 3 * 3 * CHANNELS),
    stemBn: batchNorm(CHANNELS),
    dwKernel: values(3 * 3 * CHANNELS),
    dwBn: batchNorm(CHANNELS),
    seReduceKernel: values(CHANNELS * SE_CHANNELS),
    seReduceBias: values(SE_CHANNELS, 0.1),
    seExpandKernel: values(SE_CHANNELS * CHANNELS),
    seExpandBias: values(CHANNELS, 0.1),
    projectKernel: values(CHANNELS * CHANNELS),
    projectBn: batchNorm(CHANNELS),
    denseKernel: values(CHANNELS * CLASSES, 1),
    denseBias: values(CLASSES, 0.1),
  };
}

type Json = Record<string, unknown>;

function layer(
  className: string,
  name: string,
  config: Json,
  inbound: string[] | null,
  kwargs: Json = {},
): Json {
  return {
    class_name: className,
    config: { name, trainable: true, dtype: MIXED, ...config },
    name,
    // Keras numbers the first call of a nested model built on its own Input as node 1 (`get_network_config`).
    inbound_nodes: inbound
      ? [inbound.map((source) => [source, source === BASE_MODEL ? 1 : 0, 0, kwargs])]
      : [],
  };
}

const CONV_DEFAULTS = {
  data_format: 'channels_last',
  dilation_rate: [1, 1],
  groups: 1,
  kernel_initializer: {
    class_name: 'VarianceScaling',
    config: { scale: 2.0, mode: 'fan_out', distribution: 'truncated_normal', seed: null },
  },
  bias_initializer: { class_name: 'Zeros', config: {} },
  kernel_regularizer: null,
  bias_regularizer: null,
  activity_regularizer: null,
  kernel_constraint: null,
  bias_constraint: null,
};

const BN_DEFAULTS = {
  axis: [3],
  momentum: 0.99,
  epsilon: BN_EPSILON,
  center: true,
  scale: true,
  beta_initializer: { class_name: 'Zeros', config: {} },
  gamma_initializer: { class_name: 'Ones', config: {} },
  moving_mean_initializer: { class_name: 'Zeros', config: {} },
  moving_variance_initializer: { class_name: 'Ones', config: {} },
  beta_regularizer: null,
  gamma_regularizer: null,
  beta_constraint: null,
  gamma_constraint: null,
};

function baseModelConfig(): Json {
  const conv = (
    name: string,
    filters: number,
    kernel: number,
    strides: number,
    padding: string,
    activation: string,
    useBias: boolean,
    inbound: string,
  ) =>
    layer(
      'Conv2D',
      name,
      {
        ...CONV_DEFAULTS,
        filters,
        kernel_size: [kernel, kernel],
        strides: [strides, strides],
        padding,
        activation,
        use_bias: useBias,
      },
      [inbound],
    );
  const bn = (name: string, inbound: string) => layer('BatchNormalization', name, BN_DEFAULTS, [inbound]);
  const layers = [
    {
      class_name: 'InputLayer',
      config: {
        batch_input_shape: [null, INPUT_SIZE, INPUT_SIZE, 3],
        dtype: 'float32',
        sparse: false,
        ragged: false,
        name: 'input_1',
      },
      name: 'input_1',
      inbound_nodes: [],
    },
    layer('Rescaling', 'rescaling', { scale: RESCALE, offset: 0.0 }, ['input_1']),
    layer('Normalization', 'normalization', { axis: [3], mean: null, variance: null }, ['rescaling']),
    layer(
      'ZeroPadding2D',
      'stem_conv_pad',
      {
        padding: [
          [0, 1],
          [0, 1],
        ],
        data_format: 'channels_last',
      },
      ['normalization'],
    ),
    conv('stem_conv', CHANNELS, 3, 2, 'valid', 'linear', false, 'stem_conv_pad'),
    bn('stem_bn', 'stem_conv'),
    layer('Activation', 'stem_activation', { activation: 'swish' }, ['stem_bn']),
    layer(
      'DepthwiseConv2D',
      'block1a_dwconv',
      {
        ...CONV_DEFAULTS,
        kernel_size: [3, 3],
        strides: [1, 1],
        padding: 'same',
        activation: 'linear',
        use_bias: false,
        depth_multiplier: 1,
        depthwise_initializer: CONV_DEFAULTS.kernel_initializer,
        depthwise_regularizer: null,
        depthwise_constraint: null,
      },
      ['stem_activation'],
    ),
    bn('block1a_bn', 'block1a_dwconv'),
    layer('Activation', 'block1a_activation', { activation: 'swish' }, ['block1a_bn']),
    layer('GlobalAveragePooling2D', 'block1a_se_squeeze', { data_format: 'channels_last', keepdims: false }, [
      'block1a_activation',
    ]),
    layer('Reshape', 'block1a_se_reshape', { target_shape: [1, 1, CHANNELS] }, ['block1a_se_squeeze']),
    conv('block1a_se_reduce', SE_CHANNELS, 1, 1, 'same', 'swish', true, 'block1a_se_reshape'),
    conv('block1a_se_expand', CHANNELS, 1, 1, 'same', 'sigmoid', true, 'block1a_se_reduce'),
    layer('Multiply', 'block1a_se_excite', {}, ['block1a_activation', 'block1a_se_expand']),
    conv('block1a_project_conv', CHANNELS, 1, 1, 'same', 'linear', false, 'block1a_se_excite'),
    bn('block1a_project_bn', 'block1a_project_conv'),
    layer('Dropout', 'block1a_drop', { rate: 0.2, noise_shape: [null, 1, 1, 1], seed: null }, [
      'block1a_project_bn',
    ]),
    layer('Add', 'block1a_add', {}, ['block1a_drop', 'stem_activation']),
  ];
  return {
    class_name: 'Functional',
    config: {
      name: 'efficientnetb0',
      layers,
      input_layers: [['input_1', 0, 0]],
      output_layers: [['block1a_add', 0, 0]],
    },
    name: 'efficientnetb0',
    inbound_nodes: [[['input_layer', 0, 0, { training: false }]]],
  };
}

export function efficientNetLikeConfig(): Json {
  const layers = [
    {
      class_name: 'InputLayer',
      config: {
        batch_input_shape: [null, INPUT_SIZE, INPUT_SIZE, 3],
        dtype: 'float32',
        sparse: false,
        ragged: false,
        name: 'input_layer',
      },
      name: 'input_layer',
      inbound_nodes: [],
    },
    baseModelConfig(),
    layer('GlobalAveragePooling2D', 'pooling_layer', { data_format: 'channels_last', keepdims: true }, [
      'efficientnetb0',
    ]),
    layer('Flatten', 'flatten', { data_format: 'channels_last' }, ['pooling_layer']),
    layer(
      'Dense',
      'dense',
      {
        ...CONV_DEFAULTS,
        units: CLASSES,
        activation: 'linear',
        use_bias: true,
        groups: undefined,
        data_format: undefined,
        dilation_rate: undefined,
      },
      ['flatten'],
    ),
    {
      ...layer('Activation', 'softmax_float32', { activation: 'softmax' }, ['dense']),
      config: { name: 'softmax_float32', trainable: true, dtype: 'float32', activation: 'softmax' },
    },
  ];
  return JSON.parse(
    JSON.stringify({
      class_name: 'Functional',
      config: {
        name: 'model',
        layers,
        input_layers: [['input_layer', 0, 0]],
        output_layers: [['softmax_float32', 0, 0]],
      },
    }),
  ) as Json;
}

const w = (name: string, shape: number[], data: Float32Array): KerasWeight => ({ name, shape, data });

/** Keras's h5 weight order for a nested model: every trainable weight (in layer order), then the others. */
function baseModelWeights(p: Params): KerasWeight[] {
  const bnTrainable = (name: string, bn: BatchNorm) => [
    w(`${name}/gamma:0`, [CHANNELS], bn.gamma),
    w(`${name}/beta:0`, [CHANNELS], bn.beta),
  ];
  const bnMoving = (name: string, bn: BatchNorm) => [
    w(`${name}/moving_mean:0`, [CHANNELS], bn.mean),
    w(`${name}/moving_variance:0`, [CHANNELS], bn.variance),
  ];
  return [
    w('stem_conv/kernel:0', [3, 3, 3, CHANNELS], p.stemKernel),
    ...bnTrainable('stem_bn', p.stemBn),
    w('block1a_dwconv/depthwise_kernel:0', [3, 3, CHANNELS, 1], p.dwKernel),
    ...bnTrainable('block1a_bn', p.dwBn),
    w('block1a_se_reduce/kernel:0', [1, 1, CHANNELS, SE_CHANNELS], p.seReduceKernel),
    w('block1a_se_reduce/bias:0', [SE_CHANNELS], p.seReduceBias),
    w('block1a_se_expand/kernel:0', [1, 1, SE_CHANNELS, CHANNELS], p.seExpandKernel),
    w('block1a_se_expand/bias:0', [CHANNELS], p.seExpandBias),
    w('block1a_project_conv/kernel:0', [1, 1, CHANNELS, CHANNELS], p.projectKernel),
    ...bnTrainable('block1a_project_bn', p.projectBn),
    w('normalization/mean:0', [3], p.normMean),
    w('normalization/variance:0', [3], p.normVariance),
    { name: 'normalization/count:0', shape: [], data: BigInt64Array.from([1000n]) },
    ...bnMoving('stem_bn', p.stemBn),
    ...bnMoving('block1a_bn', p.dwBn),
    ...bnMoving('block1a_project_bn', p.projectBn),
  ];
}

export function efficientNetLikeFile(
  seed = 7,
  modelConfig: unknown = efficientNetLikeConfig(),
): KerasH5Content {
  const p = makeParams(seed);
  return {
    modelConfig,
    kerasVersion: '2.7.0',
    layerNameChunks: 2,
    layers: [
      { name: 'input_layer', weights: [] },
      { name: 'efficientnetb0', weights: baseModelWeights(p) },
      { name: 'pooling_layer', weights: [] },
      { name: 'flatten', weights: [] },
      {
        name: 'dense',
        weights: [
          w('dense/kernel:0', [CHANNELS, CLASSES], p.denseKernel),
          w('dense/bias:0', [CLASSES], p.denseBias),
        ],
      },
      { name: 'softmax_float32', weights: [] },
    ],
  };
}

/** The same function in plain TF.js ops (no layers), for an NHWC float32 input. */
export function efficientNetLikeReference(
  tf: typeof TfCore,
  input: TfCore.Tensor4D,
  seed = 7,
): TfCore.Tensor2D {
  const p = makeParams(seed);
  type T4 = TfCore.Tensor4D;
  return tf.tidy(() => {
    const v = (values: Float32Array) => tf.tensor1d(values);
    const batchNorm = (x: T4, bn: BatchNorm): T4 =>
      tf.add<T4>(
        tf.mul<T4>(
          tf.div<T4>(tf.sub<T4>(x, v(bn.mean)), tf.sqrt(tf.add(v(bn.variance), BN_EPSILON))),
          v(bn.gamma),
        ),
        v(bn.beta),
      );
    const swish = (x: T4): T4 => tf.mul<T4>(x, tf.sigmoid(x));
    const conv = (
      x: T4,
      kernel: Float32Array,
      shape: [number, number, number, number],
      stride: number,
      padding: 'same' | 'valid',
    ) => tf.conv2d(x, tf.tensor4d(kernel, shape), stride, padding);
    let x = tf.mul<T4>(input, RESCALE);
    x = tf.div<T4>(tf.sub<T4>(x, v(p.normMean)), tf.sqrt(v(p.normVariance)));
    x = tf.pad(x, [
      [0, 0],
      [0, 1],
      [0, 1],
      [0, 0],
    ]);
    const stem = swish(batchNorm(conv(x, p.stemKernel, [3, 3, 3, CHANNELS], 2, 'valid'), p.stemBn));
    x = tf.depthwiseConv2d(stem, tf.tensor4d(p.dwKernel, [3, 3, CHANNELS, 1]), 1, 'same');
    x = swish(batchNorm(x, p.dwBn));
    let se = tf.mean<T4>(x, [1, 2], true);
    se = swish(
      tf.add<T4>(conv(se, p.seReduceKernel, [1, 1, CHANNELS, SE_CHANNELS], 1, 'same'), v(p.seReduceBias)),
    );
    se = tf.sigmoid(
      tf.add<T4>(conv(se, p.seExpandKernel, [1, 1, SE_CHANNELS, CHANNELS], 1, 'same'), v(p.seExpandBias)),
    );
    x = tf.mul<T4>(x, se);
    x = batchNorm(conv(x, p.projectKernel, [1, 1, CHANNELS, CHANNELS], 1, 'same'), p.projectBn);
    x = tf.add<T4>(x, stem);
    const pooled = tf.reshape<TfCore.Rank.R2>(tf.mean(x, [1, 2], true), [-1, CHANNELS]);
    const logits = tf.add<TfCore.Tensor2D>(
      tf.matMul(pooled, tf.tensor2d(p.denseKernel, [CHANNELS, CLASSES])),
      v(p.denseBias),
    );
    return tf.softmax(logits);
  });
}
