import { problem } from '@app/problem';
import type { InferenceOutput } from './inference-request';
import { tensorLabel } from './tensor-label';

const invalid = (detail: string) => problem('validation_failed', detail);

/**
 * Raw tensor bytes (gRPC `raw_input_contents`, REST's binary tensor extension) as the data plane's elements: little-endian, row-major; a BYTES
 * element is a 4-byte little-endian length and its bytes, and becomes a base64 string like a JSON BYTES element.
 */
export function decodeRawTensor(
  bytes: Uint8Array,
  datatype: unknown,
  tensor: string,
): Array<string | number> {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (datatype) {
    case 'BYTES': {
      const elements: string[] = [];
      for (let offset = 0; offset < view.length;) {
        if (offset + 4 > view.length) throw invalid(`Input "${tensor}": a BYTES element length is cut off.`);
        const size = view.readUInt32LE(offset);
        if (offset + 4 + size > view.length) throw invalid(`Input "${tensor}": a BYTES element is cut off.`);
        elements.push(view.subarray(offset + 4, offset + 4 + size).toString('base64'));
        offset += 4 + size;
      }
      return elements;
    }
    case 'FP32': {
      if (view.length % 4 !== 0) {
        throw invalid(`Input "${tensor}": FP32 raw contents are not a whole number of 4-byte values.`);
      }
      const values = new Array<number>(view.length / 4);
      for (let i = 0; i < values.length; i++) values[i] = view.readFloatLE(i * 4);
      return values;
    }
    case 'UINT8':
      return Array.from(view);
    default:
      throw invalid(
        `Input "${tensor}": raw contents are read for BYTES, FP32 and UINT8 tensors, not ${tensorLabel(datatype)}.`,
      );
  }
}

/** An output as raw bytes (gRPC `raw_output_contents`), the same layout as decodeRawTensor reads. */
export function encodeRawOutput(output: InferenceOutput): Buffer {
  if (output.datatype === 'FP32') {
    const values = Float32Array.from(output.data as number[]);
    return Buffer.from(values.buffer, values.byteOffset, values.byteLength);
  }
  const parts = (output.data as string[]).flatMap((element) => {
    const bytes = Buffer.from(element, 'utf8');
    const length = Buffer.alloc(4);
    length.writeUInt32LE(bytes.length);
    return [length, bytes];
  });
  return Buffer.concat(parts);
}
