import type { ModelInputSpec, ModelInput } from '@app/inference';
import { problem } from '@app/problem';

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

/** BYTES elements as strings (the JSON form of the protocol: a BYTES element is a string). */
export function bytesElements(values: unknown[], tensor: string): string[] {
  return values.map((value, index) => {
    if (typeof value !== 'string') {
      throw invalid(
        `Input "${tensor}" element ${index} is not a string: BYTES elements are base64-encoded image files.`,
      );
    }
    return value;
  });
}

/**
 * One model input per image from an [N, height, width, 3] tensor, taken as the model input as it is (the client did
 * the preprocessing). A uint8 model gets FP32 values rounded to the nearest integer, which must lie in 0..255.
 */
export function modelInputs(
  values: unknown[],
  shape: readonly number[],
  datatype: 'FP32' | 'UINT8',
  spec: ModelInputSpec,
  tensor: string,
): ModelInput[] {
  const [count, height, width, channels] = shape;
  if (shape.length !== 4 || height !== spec.height || width !== spec.width || channels !== 3) {
    throw invalid(
      `Input "${tensor}" must have shape [N, ${spec.height}, ${spec.width}, 3] (NHWC, this model's input); it has [${shape.join(', ')}].`,
    );
  }
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
