import { CUSTOM_CLASS } from '../h5/keras-config';
import { UnsupportedLayerError, type Value } from './conversion-context';
import type { LayerConverter } from './layer-converters';
import { layerWeights } from './layer-weights';

/** Keras `backend.epsilon()`: the floor Keras puts under the standard deviation in Normalization. */
const KERAS_EPSILON = 1e-7;

function statistic(
  fixed: unknown,
  weight: Float32Array | undefined,
  size: number,
  what: string,
  layer: string,
): Float32Array {
  if (weight) return weight;
  if (typeof fixed === 'number') return new Float32Array(size).fill(fixed);
  if (Array.isArray(fixed) && fixed.length === size && fixed.every((value) => typeof value === 'number')) {
    return Float32Array.from(fixed);
  }
  throw new UnsupportedLayerError(
    layer,
    `its ${what} ${JSON.stringify(fixed)} does not fit the normalised axes`,
  );
}

/** Keras 2.x Normalization (registered by the .h5 loader): `(x - mean) / max(sqrt(variance), 1e-7)`, or its inverse. */
const kerasNormalization: LayerConverter = ({ layer, config, inputs, inputShapes }, ctx) => {
  const x: Value = ctx.keras(inputs[0]);
  const shape = inputShapes[0];
  const axes =
    config.axis == null
      ? []
      : Array.isArray(config.axis)
        ? (config.axis as number[])
        : [config.axis as number];
  const keep = axes.map((axis) => (axis < 0 ? axis + shape.length : axis));
  const broadcast = shape.map((dim, axis) => (keep.includes(axis) ? dim : 1));
  if (broadcast.some((dim) => dim == null))
    throw new UnsupportedLayerError(layer, 'normalises an axis of unknown size');
  const size = (broadcast as number[]).reduce((a, b) => a * b, 1);
  const weights = layerWeights(layer);
  const mean = statistic(config.mean, weights.get('mean')?.values, size, 'mean', layer.name);
  const variance = statistic(config.variance, weights.get('variance')?.values, size, 'variance', layer.name);
  const std = variance.map((v) => Math.max(Math.sqrt(v), KERAS_EPSILON));
  const meanName = ctx.graph.floatConstant(`${layer.name}/mean`, mean, broadcast as number[]);
  const stdName = ctx.graph.floatConstant(`${layer.name}/std`, std, broadcast as number[]);
  if (config.invert === true) {
    const scaled = ctx.graph.node('Mul', [x.name, stdName], `${layer.name}/scaled`);
    return { ...x, name: ctx.graph.node('Add', [scaled, meanName], layer.name) };
  }
  const centred = ctx.graph.node('Sub', [x.name, meanName], `${layer.name}/centred`);
  return { ...x, name: ctx.graph.node('Div', [centred, stdName], layer.name) };
};

/** GlobalAveragePooling2D / GlobalMaxPooling2D with keepdims (registered by the .h5 loader). */
const kerasGlobalPooling: LayerConverter = ({ layer, config, inputs }, ctx) => {
  const mode = config.mode;
  if (mode !== 'avg' && mode !== 'max')
    throw new UnsupportedLayerError(layer, `pooling mode ${String(mode)}`);
  const x = ctx.nchw(inputs[0]);
  const op = mode === 'avg' ? 'GlobalAveragePool' : 'GlobalMaxPool';
  return { name: ctx.graph.node(op, [x.name], layer.name), layout: 'nchw', rank: 4 };
};

/** A Lambda layer the manifest maps to clip(x, min, max). */
const kerasClip: LayerConverter = ({ layer, config, inputs }, ctx) =>
  ctx.clip(inputs[0], config.min as number, config.max as number, layer.name);

/** Converters for the layer classes the Keras .h5 loader registers. */
export const KERAS_LAYER_CONVERTERS: Readonly<Record<string, LayerConverter>> = {
  [CUSTOM_CLASS.normalization]: kerasNormalization,
  [CUSTOM_CLASS.globalPooling]: kerasGlobalPooling,
  [CUSTOM_CLASS.clip]: kerasClip,
};
