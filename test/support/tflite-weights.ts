/**
 * For the saliency sanity check (Adebayo et al., 2018): a copy of a .tflite model whose last weight layers hold
 * random values, read and written in place in the flatbuffer (tensorflow/lite/schema/schema.fbs). Only the
 * weight bytes change; the graph, shapes, quantisation and biases stay.
 */

// Field ids: Model.operator_codes 1, subgraphs 2, buffers 4; SubGraph.tensors 0, operators 3; Operator.opcode_index
// 0, inputs 1; OperatorCode.deprecated_builtin_code 0, builtin_code 3; Tensor.buffer 2; Buffer.data 0.
const BUILTIN = { CONV_2D: 3, FULLY_CONNECTED: 9 };

class Reader {
  private readonly view: DataView;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  root(): number {
    return this.view.getUint32(0, true);
  }

  field(table: number, id: number): number | undefined {
    const vtable = table - this.view.getInt32(table, true);
    const slot = 4 + id * 2;
    if (slot >= this.view.getUint16(vtable, true)) return undefined;
    const offset = this.view.getUint16(vtable + slot, true);
    return offset === 0 ? undefined : table + offset;
  }

  deref(at: number): number {
    return at + this.view.getUint32(at, true);
  }

  tables(vector: number): number[] {
    return Array.from({ length: this.view.getUint32(vector, true) }, (_, i) =>
      this.deref(vector + 4 + i * 4),
    );
  }

  ints(vector: number): number[] {
    return Array.from({ length: this.view.getUint32(vector, true) }, (_, i) =>
      this.view.getInt32(vector + 4 + i * 4, true),
    );
  }

  vectorField(table: number, id: number): number | undefined {
    const at = this.field(table, id);
    return at === undefined ? undefined : this.deref(at);
  }

  i32(table: number, id: number, fallback = 0): number {
    const at = this.field(table, id);
    return at === undefined ? fallback : this.view.getInt32(at, true);
  }

  i8(table: number, id: number, fallback = 0): number {
    const at = this.field(table, id);
    return at === undefined ? fallback : this.view.getInt8(at);
  }

  /** The [start, end) of a Buffer's data bytes. */
  data(buffer: number): [number, number] | undefined {
    const vector = this.vectorField(buffer, 0);
    if (vector === undefined) return undefined;
    return [vector + 4, vector + 4 + this.view.getUint32(vector, true)];
  }
}

/**
 * `layers` weight layers (fully connected or convolution), counted from the output, get random weights (seeded,
 * so the test is repeatable). Returns the new bytes and the names of the operators changed.
 */
export function randomizeLastLayers(
  model: Uint8Array,
  layers: number,
  seed = 1,
): { bytes: Uint8Array; changed: number } {
  const bytes = model.slice();
  const reader = new Reader(bytes);
  const root = reader.root();
  const codes = reader
    .tables(reader.vectorField(root, 1)!)
    .map((code) => Math.max(reader.i8(code, 0), reader.i32(code, 3)));
  const buffers = reader.tables(reader.vectorField(root, 4)!);
  const [subgraph] = reader.tables(reader.vectorField(root, 2)!);
  const tensors = reader.tables(reader.vectorField(subgraph, 0)!);
  const operators = reader.tables(reader.vectorField(subgraph, 3)!);
  const weighted = operators.filter((operator) =>
    [BUILTIN.CONV_2D, BUILTIN.FULLY_CONNECTED].includes(codes[reader.i32(operator, 0)]),
  );
  let state = seed;
  const random = () => {
    state = (state * 1103515245 + 12345) >>> 0;
    return state >>> 24;
  };
  let changed = 0;
  for (const operator of weighted.slice(-layers)) {
    const weights = tensors[reader.ints(reader.vectorField(operator, 1)!)[1]];
    const span = reader.data(buffers[reader.i32(weights, 2)]);
    if (!span) continue;
    for (let at = span[0]; at < span[1]; at++) bytes[at] = random();
    changed++;
  }
  return { bytes, changed };
}
