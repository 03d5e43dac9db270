import type { Layer } from '@tensorflow/tfjs-layers/dist/engine/topology';
import { ConversionContext, UnsupportedLayerError, type Value } from './conversion-context';
import {
  convKernelToOnnx,
  depthwiseKernelToOnnx,
  layerWeights,
  requireWeight,
  type WeightArray,
} from './layer-weights';
import { float, int, ints, str, type AttributeValue } from './onnx-graph-builder';

type Shape = ReadonlyArray<number | null>;
type Config = Record<string, unknown>;

export interface LayerCall {
  layer: Layer;
  config: Config;
  inputs: Value[];
  /** Keras shapes of the inputs (batch first, channels last). */
  inputShapes: Shape[];
}

export type LayerConverter = (call: LayerCall, ctx: ConversionContext) => Value;

function pair(value: unknown, name: string, layer: Layer): [number, number] {
  if (typeof value === 'number') return [value, value];
  if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'number')) {
    return [value[0], value[1]];
  }
  throw new UnsupportedLayerError(layer, `${name} ${JSON.stringify(value)} is not a pair of numbers`);
}

function requireChannelsLast({ layer, config }: LayerCall): void {
  const format = config.dataFormat ?? config.data_format;
  if (format !== undefined && format !== 'channelsLast' && format !== 'channels_last') {
    throw new UnsupportedLayerError(layer, `data format ${JSON.stringify(format)} is not converted`);
  }
}

/** TensorFlow's SAME padding: the output is ceil(in / stride), any odd padding pixel goes at the end. */
function samePads(size: number, kernel: number, stride: number, dilation: number): [number, number] {
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

function windowAttributes(
  call: LayerCall,
  kernel: [number, number],
  strides: [number, number],
  dilations: [number, number],
): Record<string, AttributeValue> {
  const padding = call.config.padding;
  if (padding === 'valid') return { pads: ints([0, 0, 0, 0]) };
  if (padding !== 'same')
    throw new UnsupportedLayerError(call.layer, `padding "${String(padding)}" is not converted`);
  const [, height, width] = call.inputShapes[0];
  if (height == null || width == null) return { auto_pad: str('SAME_UPPER') };
  const [top, bottom] = samePads(height, kernel[0], strides[0], dilations[0]);
  const [left, right] = samePads(width, kernel[1], strides[1], dilations[1]);
  return { pads: ints([top, left, bottom, right]) };
}

function constant(ctx: ConversionContext, hint: string, weight: WeightArray): string {
  return ctx.graph.floatConstant(hint, weight.values, weight.shape);
}

function convolution(
  call: LayerCall,
  ctx: ConversionContext,
  input: Value,
  kernel: WeightArray,
  group: number,
  bias: WeightArray | undefined,
  hint: string,
  window: { strides: [number, number]; dilations: [number, number]; pads: Record<string, AttributeValue> },
): Value {
  const inputs = [input.name, constant(ctx, `${hint}/kernel`, kernel)];
  if (bias) inputs.push(constant(ctx, `${hint}/bias`, bias));
  const name = ctx.graph.node('Conv', inputs, hint, {
    kernel_shape: ints(kernel.shape.slice(2)),
    strides: ints(window.strides),
    dilations: ints(window.dilations),
    group: int(group),
    ...window.pads,
  });
  return { name, layout: 'nchw', rank: 4 };
}

function convWindow(call: LayerCall, kernelSize: [number, number]) {
  const strides = pair(call.config.strides ?? 1, 'strides', call.layer);
  const dilations = pair(call.config.dilationRate ?? 1, 'dilationRate', call.layer);
  if ((strides[0] > 1 || strides[1] > 1) && (dilations[0] > 1 || dilations[1] > 1)) {
    throw new UnsupportedLayerError(call.layer, 'strides and dilation together are not converted');
  }
  return { strides, dilations, pads: windowAttributes(call, kernelSize, strides, dilations) };
}

const conv2d: LayerConverter = (call, ctx) => {
  requireChannelsLast(call);
  const { layer, config } = call;
  if (config.groups !== undefined && config.groups !== 1) {
    throw new UnsupportedLayerError(layer, `groups=${JSON.stringify(config.groups)} is not converted`);
  }
  const weights = layerWeights(layer);
  const kernel = requireWeight(layer, weights, 'kernel');
  const window = convWindow(call, [kernel.shape[0], kernel.shape[1]]);
  const x = ctx.nchw(call.inputs[0]);
  const y = convolution(call, ctx, x, convKernelToOnnx(kernel), 1, weights.get('bias'), layer.name, window);
  return ctx.activation(config.activation as string | undefined, y, `${layer.name}/activation`);
};

const depthwiseConv2d: LayerConverter = (call, ctx) => {
  requireChannelsLast(call);
  const { layer, config } = call;
  const weights = layerWeights(layer);
  const kernel = requireWeight(layer, weights, 'depthwise_kernel');
  const window = convWindow(call, [kernel.shape[0], kernel.shape[1]]);
  const x = ctx.nchw(call.inputs[0]);
  const groups = kernel.shape[2];
  const y = convolution(
    call,
    ctx,
    x,
    depthwiseKernelToOnnx(kernel),
    groups,
    weights.get('bias'),
    layer.name,
    window,
  );
  return ctx.activation(config.activation as string | undefined, y, `${layer.name}/activation`);
};

const separableConv2d: LayerConverter = (call, ctx) => {
  requireChannelsLast(call);
  const { layer, config } = call;
  const weights = layerWeights(layer);
  const depthwise = requireWeight(layer, weights, 'depthwise_kernel');
  const pointwise = requireWeight(layer, weights, 'pointwise_kernel');
  const window = convWindow(call, [depthwise.shape[0], depthwise.shape[1]]);
  const x = ctx.nchw(call.inputs[0]);
  const groups = depthwise.shape[2];
  const spatial = convolution(
    call,
    ctx,
    x,
    depthwiseKernelToOnnx(depthwise),
    groups,
    undefined,
    `${layer.name}/depthwise`,
    window,
  );
  const unit = {
    strides: [1, 1] as [number, number],
    dilations: [1, 1] as [number, number],
    pads: { pads: ints([0, 0, 0, 0]) },
  };
  const y = convolution(
    call,
    ctx,
    spatial,
    convKernelToOnnx(pointwise),
    1,
    weights.get('bias'),
    layer.name,
    unit,
  );
  return ctx.activation(config.activation as string | undefined, y, `${layer.name}/activation`);
};

const batchNormalization: LayerConverter = ({ layer, config, inputs }, ctx) => {
  const x = inputs[0];
  const axis = (config.axis as number | number[] | undefined) ?? -1;
  const single = Array.isArray(axis) && axis.length === 1 ? axis[0] : axis;
  if (single !== -1 && single !== x.rank - 1) {
    throw new UnsupportedLayerError(
      layer,
      `normalisation over axis ${JSON.stringify(axis)} is not converted`,
    );
  }
  if (x.rank !== 4 && x.rank !== 2)
    throw new UnsupportedLayerError(layer, `rank-${x.rank} input is not converted`);
  // The channel axis is 1 in both NCHW and a Keras [batch, channels] tensor.
  const input = x.rank === 4 ? ctx.nchw(x) : ctx.keras(x);
  const weights = layerWeights(layer);
  const mean = requireWeight(layer, weights, 'moving_mean');
  const variance = requireWeight(layer, weights, 'moving_variance');
  const channels = mean.shape[0];
  const gamma = weights.get('gamma') ?? { values: new Float32Array(channels).fill(1), shape: [channels] };
  const beta = weights.get('beta') ?? { values: new Float32Array(channels), shape: [channels] };
  const name = ctx.graph.node(
    'BatchNormalization',
    [
      input.name,
      ...[gamma, beta, mean, variance].map((w, i) =>
        constant(ctx, `${layer.name}/${['gamma', 'beta', 'mean', 'variance'][i]}`, w),
      ),
    ],
    layer.name,
    { epsilon: float((config.epsilon as number | undefined) ?? 1e-3) },
  );
  return { ...input, name };
};

const dense: LayerConverter = ({ layer, config, inputs }, ctx) => {
  const weights = layerWeights(layer);
  const kernel = requireWeight(layer, weights, 'kernel');
  const bias = weights.get('bias');
  const x = ctx.keras(inputs[0]);
  let y: Value;
  if (x.rank === 2) {
    const operands = [x.name, constant(ctx, `${layer.name}/kernel`, kernel)];
    if (bias) operands.push(constant(ctx, `${layer.name}/bias`, bias));
    y = { name: ctx.graph.node('Gemm', operands, layer.name), layout: 'keras', rank: 2 };
  } else {
    // Dense on a higher-rank tensor applies to its last axis.
    let name = ctx.graph.node(
      'MatMul',
      [x.name, constant(ctx, `${layer.name}/kernel`, kernel)],
      `${layer.name}/matmul`,
    );
    if (bias) name = ctx.graph.node('Add', [name, constant(ctx, `${layer.name}/bias`, bias)], layer.name);
    y = { name, layout: 'keras', rank: x.rank };
  }
  return ctx.activation(config.activation as string | undefined, y, `${layer.name}/activation`);
};

const activation: LayerConverter = ({ layer, config, inputs }, ctx) =>
  ctx.activation(config.activation as string | undefined, inputs[0], layer.name);

const relu: LayerConverter = ({ layer, config, inputs }, ctx) => {
  const maxValue = config.maxValue ?? config.max_value;
  const slope = (config.negativeSlope ?? config.negative_slope ?? 0) as number;
  const threshold = (config.threshold ?? 0) as number;
  if (threshold !== 0) throw new UnsupportedLayerError(layer, `threshold ${threshold} is not converted`);
  if (slope !== 0) {
    const leaky = ctx.unary('LeakyRelu', inputs[0], `${layer.name}/leaky`, { alpha: float(slope) });
    if (maxValue == null) return leaky;
    return {
      ...leaky,
      name: ctx.graph.node(
        'Min',
        [leaky.name, ctx.scalar(`${layer.name}/max`, maxValue as number)],
        layer.name,
      ),
    };
  }
  if (maxValue == null) return ctx.unary('Relu', inputs[0], layer.name);
  return ctx.clip(inputs[0], 0, maxValue as number, layer.name);
};

const leakyRelu: LayerConverter = ({ layer, config, inputs }, ctx) =>
  ctx.unary('LeakyRelu', inputs[0], layer.name, {
    alpha: float((config.alpha as number | undefined) ?? 0.3),
  });

const elu: LayerConverter = ({ layer, config, inputs }, ctx) =>
  ctx.unary('Elu', inputs[0], layer.name, { alpha: float((config.alpha as number | undefined) ?? 1) });

const softmax: LayerConverter = ({ layer, config, inputs }, ctx) => {
  const axis = (config.axis as number | number[] | undefined) ?? -1;
  if (Array.isArray(axis) && axis.length !== 1)
    throw new UnsupportedLayerError(layer, 'softmax over several axes');
  return ctx.unary('Softmax', inputs[0], layer.name, {
    axis: int(ctx.axis(inputs[0], Array.isArray(axis) ? axis[0] : axis)),
  });
};

/** Brings merge inputs to one layout; Keras merges need equal ranks here (no rank broadcasting). */
function sameLayout({ layer, inputs }: LayerCall, ctx: ConversionContext): Value[] {
  if (inputs.some((input) => input.rank !== inputs[0].rank)) {
    throw new UnsupportedLayerError(layer, 'merging tensors of different ranks is not converted');
  }
  return inputs[0].rank === 4
    ? inputs.map((input) => ctx.nchw(input))
    : inputs.map((input) => ctx.keras(input));
}

function variadic(op: string): LayerConverter {
  return (call, ctx) => {
    const inputs = sameLayout(call, ctx);
    return {
      ...inputs[0],
      name: ctx.graph.node(
        op,
        inputs.map((input) => input.name),
        call.layer.name,
      ),
    };
  };
}

function binaryChain(op: string): LayerConverter {
  return (call, ctx) => {
    const inputs = sameLayout(call, ctx);
    let name = inputs[0].name;
    for (let i = 1; i < inputs.length; i++) {
      name = ctx.graph.node(
        op,
        [name, inputs[i].name],
        i === inputs.length - 1 ? call.layer.name : `${call.layer.name}/${i}`,
      );
    }
    return { ...inputs[0], name };
  };
}

const subtract: LayerConverter = (call, ctx) => {
  if (call.inputs.length !== 2) throw new UnsupportedLayerError(call.layer, 'Subtract takes two inputs');
  return binaryChain('Sub')(call, ctx);
};

const concatenate: LayerConverter = (call, ctx) => {
  const inputs = sameLayout(call, ctx);
  const axis = ctx.axis(inputs[0], (call.config.axis as number | undefined) ?? -1);
  return {
    ...inputs[0],
    name: ctx.graph.node(
      'Concat',
      inputs.map((input) => input.name),
      call.layer.name,
      { axis: int(axis) },
    ),
  };
};

const zeroPadding2d: LayerConverter = (call, ctx) => {
  requireChannelsLast(call);
  const { layer, config } = call;
  const padding = config.padding;
  let rows: [number, number];
  let cols: [number, number];
  if (Array.isArray(padding) && Array.isArray(padding[0])) {
    rows = pair(padding[0], 'padding', layer);
    cols = pair(padding[1], 'padding', layer);
  } else {
    const [r, c] = pair(padding, 'padding', layer);
    rows = [r, r];
    cols = [c, c];
  }
  const x = ctx.nchw(call.inputs[0]);
  const pads = ctx.graph.int64Constant(`${layer.name}/pads`, [
    0,
    0,
    rows[0],
    cols[0],
    0,
    0,
    rows[1],
    cols[1],
  ]);
  return { ...x, name: ctx.graph.node('Pad', [x.name, pads], layer.name, { mode: str('constant') }) };
};

function pooling(op: 'MaxPool' | 'AveragePool'): LayerConverter {
  return (call, ctx) => {
    requireChannelsLast(call);
    const { layer, config } = call;
    const kernel = pair(config.poolSize ?? config.pool_size ?? 2, 'poolSize', layer);
    const strides = pair(config.strides ?? kernel, 'strides', layer);
    const x = ctx.nchw(call.inputs[0]);
    const attributes: Record<string, AttributeValue> = {
      kernel_shape: ints(kernel),
      strides: ints(strides),
      ...windowAttributes(call, kernel, strides, [1, 1]),
    };
    // Keras averages over the real pixels only, never the padding.
    if (op === 'AveragePool') attributes.count_include_pad = int(0);
    return { ...x, name: ctx.graph.node(op, [x.name], layer.name, attributes) };
  };
}

function globalPooling(op: 'GlobalAveragePool' | 'GlobalMaxPool'): LayerConverter {
  return (call, ctx) => {
    requireChannelsLast(call);
    const keepDims = call.config.keepdims ?? call.config.keepDims;
    const x = ctx.nchw(call.inputs[0]);
    const pooled = ctx.graph.node(op, [x.name], `${call.layer.name}/pool`);
    if (keepDims === true) return { name: pooled, layout: 'nchw', rank: 4 };
    return {
      name: ctx.graph.node('Flatten', [pooled], call.layer.name, { axis: int(1) }),
      layout: 'keras',
      rank: 2,
    };
  };
}

const flatten: LayerConverter = ({ layer, inputs }, ctx) => {
  const x = ctx.keras(inputs[0]);
  if (x.rank === 2) return x;
  return {
    name: ctx.graph.node('Flatten', [x.name], layer.name, { axis: int(1) }),
    layout: 'keras',
    rank: 2,
  };
};

const reshape: LayerConverter = ({ layer, config, inputs }, ctx) => {
  const target = config.targetShape as Array<number | null> | undefined;
  if (!Array.isArray(target)) throw new UnsupportedLayerError(layer, 'has no targetShape');
  const x = ctx.keras(inputs[0]);
  const shape = ctx.graph.int64Constant(`${layer.name}/shape`, [0, ...target.map((dim) => dim ?? -1)]);
  return {
    name: ctx.graph.node('Reshape', [x.name, shape], layer.name),
    layout: 'keras',
    rank: target.length + 1,
  };
};

const permute: LayerConverter = ({ layer, config, inputs }, ctx) => {
  const dims = config.dims as number[];
  const x = ctx.keras(inputs[0]);
  return { ...x, name: ctx.graph.node('Transpose', [x.name], layer.name, { perm: ints([0, ...dims]) }) };
};

const rescaling: LayerConverter = ({ layer, config, inputs }, ctx) => {
  const scale = (config.scale as number | undefined) ?? 1;
  const offset = (config.offset as number | undefined) ?? 0;
  if (typeof scale !== 'number' || typeof offset !== 'number') {
    throw new UnsupportedLayerError(layer, 'per-channel scale or offset is not converted');
  }
  const scaled = ctx.graph.node(
    'Mul',
    [inputs[0].name, ctx.scalar(`${layer.name}/scale`, scale)],
    `${layer.name}/scaled`,
  );
  return {
    ...inputs[0],
    name: ctx.graph.node('Add', [scaled, ctx.scalar(`${layer.name}/offset`, offset)], layer.name),
  };
};

/** Layers that do nothing at inference time. */
const identity: LayerConverter = ({ inputs }) => inputs[0];

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
