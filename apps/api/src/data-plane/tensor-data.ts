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
  if (data.form === 'raw') {
    const expected = elementCount(shape, tensor);
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
  // First, so an overflowing shape is reported as such rather than as the wrong shape.
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
 * Model inputs straight from raw tensor bytes, with no element becoming a JavaScript number array: UINT8 pixels
 * are one copy per image; FP32 values are read in place (or from one aligned copy) and checked, and converted in
 * the same pass where the model takes uint8.
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
  // The shape is [count, height, width, 3], checked by modelInputs.
  const expected = count * size * bytesPer;
  if (bytes.byteLength !== expected) {
    throw invalid(
      `Input "${tensor}" has shape [${shape.join(', ')}], which holds ${expected / bytesPer} ${datatype} elements (${expected} bytes), but its raw contents have ${bytes.byteLength} bytes.`,
    );
  }
  const modelShape: ModelInput['shape'] = [1, height, width, 3];
  const inputs: ModelInput[] = [];
  for (let image = 0; image < count; image++) {
    const part = bytes.subarray(image * size * bytesPer, (image + 1) * size * bytesPer);
    if (datatype === 'UINT8') {
      inputs.push({ data: toUint8 ? new Uint8Array(part) : floatsOf(part), shape: modelShape });
      continue;
    }
    const values = float32View(part);
    const bad = toUint8 ? firstOutsidePixelRange(values) : firstNonFinite(values);
    if (bad >= 0) {
      const value = values[bad];
      throw invalid(
        Number.isFinite(value)
          ? `Input "${tensor}" element ${image * size + bad} is ${value}: this model takes uint8 pixels, so FP32 values must lie in 0..255.`
          : `Input "${tensor}" element ${image * size + bad} is ${value}: FP32 elements are finite numbers.`,
      );
    }
    inputs.push({ data: toUint8 ? roundToUint8(values) : new Float32Array(values), shape: modelShape });
  }
  return inputs;
}

/** UINT8 pixels as float32 values for a float model, unscaled. */
function floatsOf(pixels: Uint8Array): Float32Array<ArrayBuffer> {
  const floats = new Float32Array(pixels.length);
  floats.set(pixels);
  return floats;
}

/** The FP32 values of raw little-endian bytes: a view where they are aligned, else one copy. */
function float32View(bytes: Uint8Array): Float32Array {
  if (!LITTLE_ENDIAN) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return Float32Array.from({ length: bytes.byteLength / 4 }, (_, i) => view.getFloat32(i * 4, true));
  }
  if (bytes.byteOffset % 4 === 0)
    return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  return new Float32Array(new Uint8Array(bytes).buffer);
}

/** The index of the first NaN or infinite value, or -1. */
function firstNonFinite(values: Float32Array): number {
  for (let i = 0; i < values.length; i++) {
    // NaN and ±Infinity are the only values for which v - v is not 0.
    if (values[i] - values[i] !== 0) return i;
  }
  return -1;
}

/** The index of the first value outside 0..255 (NaN included), or -1. */
function firstOutsidePixelRange(values: Float32Array): number {
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (!(value >= 0 && value <= 255)) return i;
  }
  return -1;
}

/** FP32 pixel values already checked to lie in 0..255, rounded half up as the JSON path's Math.round does. */
function roundToUint8(values: Float32Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(values.length);
  // Storing into a Uint8Array truncates; v + 0.5 truncated is Math.round(v) for v in 0..255.
  for (let i = 0; i < values.length; i++) out[i] = values[i] + 0.5;
  return out;
}
