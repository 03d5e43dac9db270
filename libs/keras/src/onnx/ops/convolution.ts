import { ConversionContext, UnsupportedLayerError, type Value } from '../conversion-context';
import {
  convKernelToOnnx,
  depthwiseKernelToOnnx,
  layerWeights,
  requireWeight,
  type WeightArray,
} from '../layer-weights';
import { int, ints, str, type AttributeValue } from '../onnx-graph-builder';
import { LayerCall, LayerConverter, constant, pair, requireChannelsLast } from '../layer-call';

// Conv2D, DepthwiseConv2D and SeparableConv2D as ONNX Conv (Keras HWIO kernels transposed to OIHW).

/** TensorFlow's SAME padding: the output is ceil(in / stride), any odd padding pixel goes at the end. */
export function samePads(size: number, kernel: number, stride: number, dilation: number): [number, number] {
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

export function windowAttributes(
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

export function convolution(
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

export function convWindow(call: LayerCall, kernelSize: [number, number]) {
  const strides = pair(call.config.strides ?? 1, 'strides', call.layer);
  const dilations = pair(call.config.dilationRate ?? 1, 'dilationRate', call.layer);
  if ((strides[0] > 1 || strides[1] > 1) && (dilations[0] > 1 || dilations[1] > 1)) {
    throw new UnsupportedLayerError(call.layer, 'strides and dilation together are not converted');
  }
  return { strides, dilations, pads: windowAttributes(call, kernelSize, strides, dilations) };
}

export const conv2d: LayerConverter = (call, ctx) => {
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

export const depthwiseConv2d: LayerConverter = (call, ctx) => {
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

export const separableConv2d: LayerConverter = (call, ctx) => {
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
