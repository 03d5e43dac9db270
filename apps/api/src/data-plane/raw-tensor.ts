import { problem } from '@app/problem';
import type { InferenceOutput } from './inference-request';

const invalid = (detail: string) => problem('validation_failed', detail);

/**
 * The elements of a raw BYTES tensor (gRPC `raw_input_contents`, REST's binary tensor extension): each is a 4-byte
 * little-endian length and its bytes. The elements are views of `bytes`, not copies.
 */
export function rawBytesElements(bytes: Uint8Array, tensor: string): Buffer[] {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const elements: Buffer[] = [];
  for (let offset = 0; offset < view.length;) {
    if (offset + 4 > view.length) throw invalid(`Input "${tensor}": a BYTES element length is cut off.`);
    const size = view.readUInt32LE(offset);
    if (offset + 4 + size > view.length) throw invalid(`Input "${tensor}": a BYTES element is cut off.`);
    elements.push(view.subarray(offset + 4, offset + 4 + size));
    offset += 4 + size;
  }
  return elements;
}

/** An output as raw bytes (gRPC `raw_output_contents`), the layout raw inputs have: FP32 as its bytes, no copy. */
export function encodeRawOutput(output: InferenceOutput): Buffer {
  if (output.datatype === 'FP32') {
    return Buffer.from(output.data.buffer, output.data.byteOffset, output.data.byteLength);
  }
  // A BOOL element is one byte, as in Triton's and KServe's raw tensors.
  if (output.datatype === 'BOOL') return Buffer.from(output.data.map((value) => (value ? 1 : 0)));
  const parts = output.data.flatMap((element) => {
    const bytes = Buffer.from(element, 'utf8');
    const length = Buffer.alloc(4);
    length.writeUInt32LE(bytes.length);
    return [length, bytes];
  });
  return Buffer.concat(parts);
}
