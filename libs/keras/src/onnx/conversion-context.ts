import type { Layer } from '@tensorflow/tfjs-layers/dist/engine/topology';
import { float, ints, type OnnxGraphBuilder } from './onnx-graph-builder';

/**
 * A converted tensor. Keras tensors are channels-last; ONNX convolutions are channels-first, so rank-4 values
 * live as NCHW inside the graph (`nchw`) and everything else keeps the Keras order (`keras`). Conversions
 * between the two are inserted only where a layer needs the other one.
 */
export interface Value {
  name: string;
  layout: 'nchw' | 'keras';
  /** Rank in Keras terms (batch included). */
  rank: number;
}

/** Thrown when a model uses something the converter cannot express exactly; the model then runs on tfjs. */
export class UnsupportedLayerError extends Error {
  constructor(layer: Layer | string, why: string) {
    super(`${typeof layer === 'string' ? layer : `layer "${layer.name}" (${layer.getClassName()})`}: ${why}`);
    this.name = 'UnsupportedLayerError';
  }
}

const TO_NCHW = [0, 3, 1, 2];
const TO_NHWC = [0, 2, 3, 1];

export class ConversionContext {
  private readonly nchwOf = new Map<string, Value>();
  private readonly kerasOf = new Map<string, Value>();

  constructor(readonly graph: OnnxGraphBuilder) {}

  /** The value in NCHW (rank 4 only). */
  nchw(value: Value): Value {
    if (value.layout === 'nchw') return value;
    if (value.rank !== 4)
      throw new UnsupportedLayerError(value.name, `expected a rank-4 tensor, got rank ${value.rank}`);
    let converted = this.nchwOf.get(value.name);
    if (!converted) {
      const name = this.graph.node('Transpose', [value.name], `${value.name}/nchw`, { perm: ints(TO_NCHW) });
      converted = { name, layout: 'nchw', rank: 4 };
      this.nchwOf.set(value.name, converted);
      this.kerasOf.set(name, value);
    }
    return converted;
  }

  /** The value in Keras (channels-last) order. */
  keras(value: Value): Value {
    if (value.layout === 'keras') return value;
    let converted = this.kerasOf.get(value.name);
    if (!converted) {
      const name = this.graph.node('Transpose', [value.name], `${value.name}/nhwc`, { perm: ints(TO_NHWC) });
      converted = { name, layout: 'keras', rank: 4 };
      this.kerasOf.set(value.name, converted);
      this.nchwOf.set(name, value);
    }
    return converted;
  }

  /** Where a Keras axis (negative allowed) sits in the value's layout. */
  axis(value: Value, kerasAxis: number): number {
    const axis = kerasAxis < 0 ? value.rank + kerasAxis : kerasAxis;
    if (axis < 0 || axis >= value.rank)
      throw new UnsupportedLayerError(value.name, `axis ${kerasAxis} out of range`);
    return value.layout === 'nchw' ? TO_NCHW.indexOf(axis) : axis;
  }

  scalar(hint: string, value: number): string {
    return this.graph.floatConstant(hint, Float32Array.of(value), []);
  }

  /** `op` applied to a value, keeping its layout. */
  unary(
    op: string,
    value: Value,
    hint: string,
    attributes: Parameters<OnnxGraphBuilder['node']>[3] = {},
  ): Value {
    return { ...value, name: this.graph.node(op, [value.name], hint, attributes) };
  }

  /** Keras activation functions by their serialised names (snake_case or tfjs camelCase). */
  activation(name: string | undefined, value: Value, hint: string): Value {
    switch (name ?? 'linear') {
      case 'linear':
        return value;
      case 'relu':
        return this.unary('Relu', value, hint);
      case 'relu6':
        return this.clip(value, 0, 6, hint);
      case 'sigmoid':
        return this.unary('Sigmoid', value, hint);
      case 'tanh':
        return this.unary('Tanh', value, hint);
      case 'elu':
        return this.unary('Elu', value, hint, { alpha: float(1) });
      case 'selu':
        return this.unary('Selu', value, hint, {
          alpha: float(1.6732632423543772),
          gamma: float(1.0507009873554805),
        });
      case 'softplus':
        return this.unary('Softplus', value, hint);
      case 'softsign':
        return this.unary('Softsign', value, hint);
      case 'hard_sigmoid':
      case 'hardSigmoid':
        return this.unary('HardSigmoid', value, hint, { alpha: float(0.2), beta: float(0.5) });
      case 'swish':
      case 'silu': {
        const gate = this.graph.node('Sigmoid', [value.name], `${hint}/sigmoid`);
        return { ...value, name: this.graph.node('Mul', [value.name, gate], hint) };
      }
      case 'softmax':
        return this.unary('Softmax', value, hint, { axis: { int: this.axis(value, -1) } });
      default:
        throw new UnsupportedLayerError(hint, `activation "${name}" is not converted`);
    }
  }

  clip(value: Value, min: number, max: number, hint: string): Value {
    const bounds = [this.scalar(`${hint}/min`, min), this.scalar(`${hint}/max`, max)];
    return { ...value, name: this.graph.node('Clip', [value.name, ...bounds], hint) };
  }
}
