import { UnsupportedLayerError, type Value } from '../conversion-context';
import { layerWeights, requireWeight } from '../layer-weights';
import { int, ints } from '../onnx-graph-builder';
import { LayerConverter, constant } from '../layer-call';

// Dense, Flatten, Reshape, Permute, and the layers that are the identity at inference (dropouts, noise).

export const dense: LayerConverter = ({ layer, config, inputs }, ctx) => {
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

export const flatten: LayerConverter = ({ layer, inputs }, ctx) => {
  const x = ctx.keras(inputs[0]);
  if (x.rank === 2) return x;
  return {
    name: ctx.graph.node('Flatten', [x.name], layer.name, { axis: int(1) }),
    layout: 'keras',
    rank: 2,
  };
};

export const reshape: LayerConverter = ({ layer, config, inputs }, ctx) => {
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

export const permute: LayerConverter = ({ layer, config, inputs }, ctx) => {
  const dims = config.dims as number[];
  const x = ctx.keras(inputs[0]);
  return { ...x, name: ctx.graph.node('Transpose', [x.name], layer.name, { perm: ints([0, ...dims]) }) };
};

/** Layers that do nothing at inference time. */
export const identity: LayerConverter = ({ inputs }) => inputs[0];
