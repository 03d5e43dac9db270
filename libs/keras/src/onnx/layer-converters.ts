import type { LayerConverter } from './layer-call';
import { activation, elu, leakyRelu, relu, softmax } from './ops/activations';
import { conv2d, depthwiseConv2d, separableConv2d } from './ops/convolution';
import { dense, flatten, identity, permute, reshape } from './ops/core';
import { binaryChain, concatenate, subtract, variadic } from './ops/merging';
import { batchNormalization, rescaling } from './ops/normalization';
import { globalPooling, pooling, zeroPadding2d } from './ops/pooling';

export type { LayerCall, LayerConverter } from './layer-call';

/** Keras layer class → converter. A layer not listed here sends the model to tfjs. */
export const LAYER_CONVERTERS: Readonly<Record<string, LayerConverter>> = {
  Conv2D: conv2d,
  DepthwiseConv2D: depthwiseConv2d,
  SeparableConv2D: separableConv2d,
  BatchNormalization: batchNormalization,
  Dense: dense,
  Activation: activation,
  ReLU: relu,
  LeakyReLU: leakyRelu,
  ELU: elu,
  Softmax: softmax,
  Add: variadic('Sum'),
  Multiply: binaryChain('Mul'),
  Subtract: subtract,
  Average: variadic('Mean'),
  Maximum: variadic('Max'),
  Minimum: variadic('Min'),
  Concatenate: concatenate,
  ZeroPadding2D: zeroPadding2d,
  MaxPooling2D: pooling('MaxPool'),
  AveragePooling2D: pooling('AveragePool'),
  GlobalAveragePooling2D: globalPooling('GlobalAveragePool'),
  GlobalMaxPooling2D: globalPooling('GlobalMaxPool'),
  Flatten: flatten,
  Reshape: reshape,
  Permute: permute,
  Rescaling: rescaling,
  Dropout: identity,
  SpatialDropout2D: identity,
  GaussianNoise: identity,
  GaussianDropout: identity,
  AlphaDropout: identity,
  ActivityRegularization: identity,
};
