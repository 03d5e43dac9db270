/**
 * LiteRT.js refuses to allocate a model whose tensors declare a dynamic batch dimension (`shape_signature` -1),
 * which converters write for Keras models with `None` batch. The service runs one image at a time, so a dynamic
 * leading dimension is fixed to 1 in a copy of the flatbuffer before compiling; every other value and the file on
 * disk stay unchanged. A dynamic dimension elsewhere (height, width, channels) is left for LiteRT to refuse.
 */

// TFLite schema field ids (tensorflow/lite/schema/schema.fbs): Model.subgraphs = 2, SubGraph.tensors = 0,
// Tensor.shape_signature = 7.
const MODEL_SUBGRAPHS = 2;
const SUBGRAPH_TENSORS = 0;
const TENSOR_SHAPE_SIGNATURE = 7;

class FlatBufferView {
  private readonly view: DataView;

  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  rootTable(): number {
    return this.u32(0);
  }

  /** Absolute offset of a table field's value, or undefined when the field is absent. */
  field(table: number, id: number): number | undefined {
    const vtable = table - this.view.getInt32(table, true);
    const vtableSize = this.view.getUint16(vtable, true);
    const slot = 4 + id * 2;
    if (slot >= vtableSize) return undefined;
    const offset = this.view.getUint16(vtable + slot, true);
    return offset === 0 ? undefined : table + offset;
  }

  /** Follows an offset stored at `at` (tables, vectors) to its absolute position. */
  deref(at: number): number {
    return at + this.u32(at);
  }

  vectorLength(vector: number): number {
    return this.u32(vector);
  }

  /** Tables in a vector of tables. */
  tables(vector: number): number[] {
    return Array.from({ length: this.vectorLength(vector) }, (_, i) => this.deref(vector + 4 + i * 4));
  }

  i32(at: number): number {
    return this.view.getInt32(at, true);
  }

  setI32(at: number, value: number): void {
    this.view.setInt32(at, value, true);
  }

  private u32(at: number): number {
    if (at + 4 > this.bytes.length) throw new RangeError('The .tflite file is truncated.');
    return this.view.getUint32(at, true);
  }
}

/** Returns the model with every tensor's dynamic batch dimension fixed to 1 and how many tensors changed. */
export function fixDynamicBatchDimension(model: Uint8Array): { bytes: Uint8Array; patched: number } {
  const bytes = Uint8Array.from(model);
  const buffer = new FlatBufferView(bytes);
  let patched = 0;
  const subgraphsField = buffer.field(buffer.rootTable(), MODEL_SUBGRAPHS);
  if (subgraphsField === undefined) return { bytes, patched };
  for (const subgraph of buffer.tables(buffer.deref(subgraphsField))) {
    const tensorsField = buffer.field(subgraph, SUBGRAPH_TENSORS);
    if (tensorsField === undefined) continue;
    for (const tensor of buffer.tables(buffer.deref(tensorsField))) {
      const signatureField = buffer.field(tensor, TENSOR_SHAPE_SIGNATURE);
      if (signatureField === undefined) continue;
      const signature = buffer.deref(signatureField);
      if (buffer.vectorLength(signature) > 0 && buffer.i32(signature + 4) === -1) {
        buffer.setI32(signature + 4, 1);
        patched++;
      }
    }
  }
  return { bytes, patched };
}
