import { windowAttributes } from './convolution';
import { int, ints, str, type AttributeValue } from '../onnx-graph-builder';
import { pair, requireChannelsLast, type LayerConverter } from '../layer-call';

// ZeroPadding2D, MaxPooling2D/AveragePooling2D and the global poolings.

export const zeroPadding2d: LayerConverter = (call, ctx) => {
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

export function pooling(op: 'MaxPool' | 'AveragePool'): LayerConverter {
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

export function globalPooling(op: 'GlobalAveragePool' | 'GlobalMaxPool'): LayerConverter {
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
