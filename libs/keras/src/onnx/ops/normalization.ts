import { UnsupportedLayerError } from '../conversion-context';
import { layerWeights, requireWeight } from '../layer-weights';
import { float } from '../onnx-graph-builder';
import { LayerConverter, constant } from '../layer-call';

// BatchNormalization and Rescaling, folded into per-channel scale and shift.

export const batchNormalization: LayerConverter = ({ layer, config, inputs }, ctx) => {
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

export const rescaling: LayerConverter = ({ layer, config, inputs }, ctx) => {
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
