import { UnsupportedLayerError } from '../conversion-context';
import { float, int } from '../onnx-graph-builder';
import { LayerConverter } from '../layer-call';

// Activation, ReLU (with max_value/threshold), LeakyReLU, ELU and Softmax.

export const activation: LayerConverter = ({ layer, config, inputs }, ctx) =>
  ctx.activation(config.activation as string | undefined, inputs[0], layer.name);

export const relu: LayerConverter = ({ layer, config, inputs }, ctx) => {
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

export const leakyRelu: LayerConverter = ({ layer, config, inputs }, ctx) =>
  ctx.unary('LeakyRelu', inputs[0], layer.name, {
    alpha: float((config.alpha as number | undefined) ?? 0.3),
  });

export const elu: LayerConverter = ({ layer, config, inputs }, ctx) =>
  ctx.unary('Elu', inputs[0], layer.name, { alpha: float((config.alpha as number | undefined) ?? 1) });

export const softmax: LayerConverter = ({ layer, config, inputs }, ctx) => {
  const axis = (config.axis as number | number[] | undefined) ?? -1;
  if (Array.isArray(axis) && axis.length !== 1)
    throw new UnsupportedLayerError(layer, 'softmax over several axes');
  return ctx.unary('Softmax', inputs[0], layer.name, {
    axis: int(ctx.axis(inputs[0], Array.isArray(axis) ? axis[0] : axis)),
  });
};
