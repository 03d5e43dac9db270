import {
  ATTRIBUTE_TYPE,
  ONNX_FLOAT,
  ONNX_INT64,
  type OnnxAttribute,
  type OnnxDim,
  type OnnxGraph,
  type OnnxNode,
  type OnnxTensor,
  type OnnxValueInfo,
} from './onnx-proto';

/** An attribute value, tagged with its ONNX type (a bare JS number could be either an int or a float). */
export type AttributeValue =
  | { int: number }
  | { float: number }
  | { ints: readonly number[] }
  | { floats: readonly number[] }
  | { string: string };

export const int = (value: number): AttributeValue => ({ int: value });
export const float = (value: number): AttributeValue => ({ float: value });
export const ints = (values: readonly number[]): AttributeValue => ({ ints: values });
export const str = (value: string): AttributeValue => ({ string: value });

function toAttribute(name: string, value: AttributeValue): OnnxAttribute {
  if ('int' in value) return { name, type: ATTRIBUTE_TYPE.INT, i: value.int };
  if ('float' in value) return { name, type: ATTRIBUTE_TYPE.FLOAT, f: value.float };
  if ('ints' in value) return { name, type: ATTRIBUTE_TYPE.INTS, ints: [...value.ints] };
  if ('floats' in value) return { name, type: ATTRIBUTE_TYPE.FLOATS, floats: [...value.floats] };
  return { name, type: ATTRIBUTE_TYPE.STRING, s: new TextEncoder().encode(value.string) };
}

function littleEndianBytes(values: Float32Array | BigInt64Array): Uint8Array {
  // Typed arrays use the platform's byte order; ONNX raw_data is little-endian (as is every platform Node runs on).
  return new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
}

/** Builds an ONNX graph node by node, giving every value and node a unique name. */
export class OnnxGraphBuilder {
  private readonly nodes: OnnxNode[] = [];
  private readonly initializers: OnnxTensor[] = [];
  private readonly inputs: OnnxValueInfo[] = [];
  private readonly outputs: OnnxValueInfo[] = [];
  private readonly used = new Set<string>();

  constructor(private readonly name: string) {}

  /** A fresh name based on `hint` (layer names are kept, so the graph reads like the source model). */
  uniqueName(hint: string): string {
    const base = hint.replace(/[^A-Za-z0-9_./:-]/g, '_') || 'value';
    let name = base;
    for (let i = 1; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }

  input(name: string, shape: OnnxDim[]): string {
    const unique = this.uniqueName(name);
    this.inputs.push({ name: unique, elemType: ONNX_FLOAT, shape });
    return unique;
  }

  output(name: string, shape: OnnxDim[]): void {
    this.outputs.push({ name, elemType: ONNX_FLOAT, shape });
  }

  /** A float32 constant (weights, biases, scalars). */
  floatConstant(hint: string, values: Float32Array, dims: readonly number[]): string {
    const name = this.uniqueName(hint);
    this.initializers.push({
      name,
      dims: [...dims],
      data_type: ONNX_FLOAT,
      raw_data: littleEndianBytes(values),
    });
    return name;
  }

  /** An int64 constant (shapes, pads, axes). */
  int64Constant(hint: string, values: readonly number[]): string {
    const name = this.uniqueName(hint);
    const data = BigInt64Array.from(values.map((value) => BigInt(value)));
    this.initializers.push({
      name,
      dims: [values.length],
      data_type: ONNX_INT64,
      raw_data: littleEndianBytes(data),
    });
    return name;
  }

  /** Adds one node; returns the name of its (single) output. */
  node(
    opType: string,
    inputs: readonly string[],
    hint: string,
    attributes: Record<string, AttributeValue> = {},
  ): string {
    const output = this.uniqueName(hint);
    this.nodes.push({
      op_type: opType,
      name: this.uniqueName(`${hint}/${opType}`),
      input: [...inputs],
      output: [output],
      attribute: Object.entries(attributes).map(([key, value]) => toAttribute(key, value)),
    });
    return output;
  }

  build(): OnnxGraph {
    return {
      name: this.name,
      nodes: this.nodes,
      initializers: this.initializers,
      inputs: this.inputs,
      outputs: this.outputs,
    };
  }
}
