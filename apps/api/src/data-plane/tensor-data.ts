import type { ModelInputSpec, ModelInput } from '@app/inference';
import { problem } from '@app/problem';
import type { TensorData } from './inference-request';
import { rawBytesElements } from './raw-tensor';

const invalid = (detail: string) => problem('validation_failed', detail);

/** The element count a shape holds; a product past 2^53 (it cannot match any body) is refused, not rounded. */
export function elementCount(shape: readonly number[], tensor: string): number {
  let count = 1;
  for (const dimension of shape) {
    count *= dimension;
    if (!Number.isSafeInteger(count)) {
      throw invalid(
        `Input "${tensor}" has shape [${shape.slice(0, 8).join(', ')}${shape.length > 8 ? ', …' : ''}], whose element count overflows: no request holds that many.`,
      );
    }
  }
  return count;
}

/**
 * The elements of `data` in row-major order, whether sent flat or nested, checked against `shape`. Iterative
 * (an explicit stack, not recursion or `flat(Infinity)`), and it stops as soon as there are more elements than
 * the shape holds, so neither nesting nor size can overflow the stack or the memory.
 */
export function flattenTensorData(data: unknown[], shape: readonly number[], tensor: string): unknown[] {
  const expected = elementCount(shape, tensor);
  const values: unknown[] = [];
  const stack: Array<{ array: unknown[]; next: number }> = [{ array: data, next: 0 }];
  while (stack.length > 0 && values.length <= expected) {
    const top = stack[stack.length - 1];
    if (top.next >= top.array.length) {
      stack.pop();
      continue;
    }
    const value = top.array[top.next++];
    if (Array.isArray(value)) stack.push({ array: value as unknown[], next: 0 });
    else values.push(value);
  }
  if (values.length !== expected) {
    throw invalid(
      `Input "${tensor}" has shape [${shape.join(', ')}], which holds ${expected} elements, but its data has ${values.length > expected ? 'more' : values.length}.`,
    );
  }
  return values;
}

/**
 * The image files of a BYTES tensor: base64 text where JSON carried them (a JSON BYTES element is a string), the
 * bytes themselves where gRPC or the binary extension did, never re-encoded on the way.
 */
export function imageElements(
  data: TensorData,
  shape: readonly number[],
  tensor: string,
): Array<string | Buffer> {
  const expected = elementCount(shape, tensor);
  if (data.form === 'raw') {
    const elements = rawBytesElements(data.bytes, tensor);
    if (elements.length !== expected) {
      throw invalid(
        `Input "${tensor}" has shape [${shape.join(', ')}], which holds ${expected} elements, but its raw contents have ${elements.length}.`,
      );
    }
    return elements;
  }
  return flattenTensorData(data.values, shape, tensor).map((value, index) => {
    if (typeof value === 'string') return value;
    if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    throw invalid(
      `Input "${tensor}" element ${index} is not a string: BYTES elements are base64-encoded image files.`,
    );
  });
}

/**
 * One model input per image from an [N, height, width, 3] tensor, taken as the model input as it is (the client did
 * the preprocessing). A uint8 model gets FP32 values rounded to the nearest integer, which must lie in 0..255.
 * Each input owns its buffer, so it can be transferred to an inference worker rather than copied.
 */
export function modelInputs(
  data: TensorData,
  shape: readonly number[],
  datatype: 'FP32' | 'UINT8',
  spec: ModelInputSpec,
  tensor: string,
): ModelInput[] {
  elementCount(shape, tensor);
  const [, height, width, channels] = shape;
  if (shape.length !== 4 || height !== spec.height || width !== spec.width || channels !== 3) {
    throw invalid(
      `Input "${tensor}" must have shape [N, ${spec.height}, ${spec.width}, 3] (NHWC, this model's input); it has [${shape.join(', ')}].`,
    );
  }
  return data.form === 'raw'
    ? rawModelInputs(data.bytes, shape, datatype, spec.dtype === 'uint8', tensor)
    : valueModelInputs(flattenTensorData(data.values, shape, tensor), shape, datatype, spec, tensor);
}

function valueModelInputs(
  values: unknown[],
  shape: readonly number[],
  datatype: 'FP32' | 'UINT8',
  spec: ModelInputSpec,
  tensor: string,
): ModelInput[] {
  const [count, height, width] = shape;
  const size = height * width * 3;
  const toUint8 = spec.dtype === 'uint8';
  return Array.from({ length: count }, (_, image) => {
    const data = toUint8 ? new Uint8Array(size) : new Float32Array(size);
    for (let i = 0; i < size; i++) {
      const index = image * size + i;
      data[i] = element(values[index], index, datatype, toUint8, tensor);
    }
    return { data, shape: [1, height, width, 3] };
  });
}

function element(
  value: unknown,
  index: number,
  datatype: 'FP32' | 'UINT8',
  toUint8: boolean,
  tensor: string,
): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw invalid(
      `Input "${tensor}" element ${index} is ${JSON.stringify(value)}: ${datatype} elements are finite numbers.`,
    );
  }
  if (datatype === 'UINT8' && !(Number.isInteger(value) && value >= 0 && value <= 255)) {
    throw invalid(
      `Input "${tensor}" element ${index} is ${value}: UINT8 elements are integers from 0 to 255.`,
    );
  }
  if (!toUint8) return value;
  if (value < 0 || value > 255) {
    throw invalid(
      `Input "${tensor}" element ${index} is ${value}: this model takes uint8 pixels, so FP32 values must lie in 0..255.`,
    );
  }
  return Math.round(value);
}

/** Whether this machine stores numbers little-endian, as raw tensors are: then FP32 bytes are read as they are. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Model inputs straight from raw tensor bytes: one copy of each image's bytes (which also aligns FP32 values), then
 * typed-array loops only where the value type changes; no element becomes a JavaScript number array.
 */
function rawModelInputs(
  bytes: Uint8Array,
  shape: readonly number[],
  datatype: 'FP32' | 'UINT8',
  toUint8: boolean,
  tensor: string,
): ModelInput[] {
  const [count, height, width] = shape;
  const size = height * width * 3;
  const bytesPer = datatype === 'FP32' ? 4 : 1;
  const expected = elementCount(shape, tensor) * bytesPer;
  if (bytes.byteLength !== expected) {
    throw invalid(
      `Input "${tensor}" has shape [${shape.join(', ')}], which holds ${expected / bytesPer} ${datatype} elements (${expected} bytes), but its raw contents have ${bytes.byteLength} bytes.`,
    );
  }
  const modelShape: ModelInput['shape'] = [1, height, width, 3];
  return Array.from({ length: count }, (_, image) => {
    const own: Uint8Array<ArrayBuffer> = new Uint8Array(
      bytes.subarray(image * size * bytesPer, (image + 1) * size * bytesPer),
    );
    if (datatype === 'UINT8') {
      if (toUint8) return { data: own, shape: modelShape };
      const floats = new Float32Array(size);
      floats.set(own);
      return { data: floats, shape: modelShape };
    }
    const values: Float32Array<ArrayBuffer> = LITTLE_ENDIAN
      ? (new Float32Array(own.buffer) as Float32Array<ArrayBuffer>)
      : bigEndianCopy(own);
    for (let i = 0; i < size; i++) {
      const value = values[i];
      if (!Number.isFinite(value)) {
        throw invalid(
          `Input "${tensor}" element ${image * size + i} is ${value}: FP32 elements are finite numbers.`,
        );
      }
      if (toUint8 && (value < 0 || value > 255)) {
        throw invalid(
          `Input "${tensor}" element ${image * size + i} is ${value}: this model takes uint8 pixels, so FP32 values must lie in 0..255.`,
        );
      }
    }
    return { data: toUint8 ? roundToUint8(values) : values, shape: modelShape };
  });
}

function bigEndianCopy(bytes: Uint8Array<ArrayBuffer>): Float32Array<ArrayBuffer> {
  const view = new DataView(bytes.buffer);
  const values = new Float32Array(bytes.byteLength / 4);
  for (let i = 0; i < values.length; i++) values[i] = view.getFloat32(i * 4, true);
  return values;
}

/** FP32 pixel values already checked to lie in 0..255, rounded to the nearest integer as the JSON path does. */
function roundToUint8(values: Float32Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = Math.round(values[i]);
  return out;
}
