import { ConversionContext, UnsupportedLayerError, type Value } from '../conversion-context';
import { int } from '../onnx-graph-builder';
import { LayerCall, LayerConverter } from '../layer-call';

// Add, Multiply, Subtract, Average, Maximum, Minimum and Concatenate.

/** Brings merge inputs to one layout; Keras merges need equal ranks here (no rank broadcasting). */
export function sameLayout({ layer, inputs }: LayerCall, ctx: ConversionContext): Value[] {
  if (inputs.some((input) => input.rank !== inputs[0].rank)) {
    throw new UnsupportedLayerError(layer, 'merging tensors of different ranks is not converted');
  }
  return inputs[0].rank === 4
    ? inputs.map((input) => ctx.nchw(input))
    : inputs.map((input) => ctx.keras(input));
}

export function variadic(op: string): LayerConverter {
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

export function binaryChain(op: string): LayerConverter {
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

export const subtract: LayerConverter = (call, ctx) => {
  if (call.inputs.length !== 2) throw new UnsupportedLayerError(call.layer, 'Subtract takes two inputs');
  return binaryChain('Sub')(call, ctx);
};

export const concatenate: LayerConverter = (call, ctx) => {
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
