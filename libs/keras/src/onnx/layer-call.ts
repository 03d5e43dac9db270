import type { Layer } from '@tensorflow/tfjs-layers/dist/engine/topology';
import { ConversionContext, UnsupportedLayerError, type Value } from './conversion-context';
import { type WeightArray } from './layer-weights';

// The call of one Keras layer as the converters see it, and the helpers every op family uses.

export type Shape = ReadonlyArray<number | null>;
export type Config = Record<string, unknown>;

export interface LayerCall {
  layer: Layer;
  config: Config;
  inputs: Value[];
  /** Keras shapes of the inputs (batch first, channels last). */
  inputShapes: Shape[];
}

export type LayerConverter = (call: LayerCall, ctx: ConversionContext) => Value;

export function pair(value: unknown, name: string, layer: Layer): [number, number] {
  if (typeof value === 'number') return [value, value];
  if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'number')) {
    return [value[0], value[1]];
  }
  throw new UnsupportedLayerError(layer, `${name} ${JSON.stringify(value)} is not a pair of numbers`);
}

export function requireChannelsLast({ layer, config }: LayerCall): void {
  const format = config.dataFormat ?? config.data_format;
  if (format !== undefined && format !== 'channelsLast' && format !== 'channels_last') {
    throw new UnsupportedLayerError(layer, `data format ${JSON.stringify(format)} is not converted`);
  }
}

export function constant(ctx: ConversionContext, hint: string, weight: WeightArray): string {
  return ctx.graph.floatConstant(hint, weight.values, weight.shape);
}
