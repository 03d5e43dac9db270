import { describe, expect, it } from 'vitest';
import type { ModelInputSpec } from '@app/inference';
import { ProblemError } from '@app/problem';
import { bytesElements, elementCount, flattenTensorData, modelInputs } from './tensor-data';

const spec = (dtype: 'uint8' | 'float32'): ModelInputSpec => ({
  height: 2,
  width: 1,
  channels: 3,
  dtype,
  channel_order: 'RGB',
  value_range: [0, 255],
  resize: { method: 'bilinear', fit: 'fill' },
});

describe('V2 tensor data', () => {
  it('reads flat and nested data alike, in row-major order', () => {
    expect(flattenTensorData([1, 2, 4, 5], [2, 2], 'x')).toEqual([1, 2, 4, 5]);
    expect(
      flattenTensorData(
        [
          [1, 2],
          [4, 5],
        ],
        [2, 2],
        'x',
      ),
    ).toEqual([1, 2, 4, 5]);
  });

  it('refuses data whose element count is not what the shape holds', () => {
    expect(() => flattenTensorData([1, 2, 3], [2, 2], 'x')).toThrow(
      'Input "x" has shape [2, 2], which holds 4 elements, but its data has 3.',
    );
  });

  it('flattens data nested far deeper than the stack allows recursion, and reports the count', () => {
    let deep: unknown[] = [7];
    for (let i = 0; i < 200_000; i++) deep = [deep];
    expect(flattenTensorData(deep, [1], 'x')).toEqual([7]);
    expect(() => flattenTensorData([deep, 1], [1], 'x')).toThrow(/holds 1 elements, but its data has more/);
  });

  it('refuses a shape whose element count overflows instead of rounding it', () => {
    expect(() => flattenTensorData([1], [2 ** 30, 2 ** 30, 2 ** 30], 'x')).toThrow(/element count overflows/);
    expect(() => elementCount([1e300, 1e300], 'x')).toThrow(/overflows/);
    expect(elementCount([2, 224, 224, 3], 'x')).toBe(301_056);
  });

  it('takes BYTES elements as strings only', () => {
    expect(bytesElements(['a', 'b'], 'image')).toEqual(['a', 'b']);
    expect(() => bytesElements(['a', 7], 'image')).toThrow(/element 1 is not a string/);
  });

  it('splits an NHWC tensor into one model input per image, as float32 for float models', () => {
    const values = [0.5, -1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15];
    const inputs = modelInputs(values, [2, 2, 1, 3], 'FP32', spec('float32'), 'input');
    expect(inputs.map((input) => input.shape)).toEqual([
      [1, 2, 1, 3],
      [1, 2, 1, 3],
    ]);
    expect(inputs[0].data).toBeInstanceOf(Float32Array);
    expect([...inputs[0].data]).toEqual([0.5, -1, 2, 3, 4, 5]);
    expect([...inputs[1].data]).toEqual([10, 11, 12, 13, 14, 15]);
  });

  it('rounds FP32 values for a uint8 model and refuses values outside 0..255', () => {
    const [input] = modelInputs(
      [0, 0.4, 0.6, 127.5, 254.9, 255],
      [1, 2, 1, 3],
      'FP32',
      spec('uint8'),
      'input',
    );
    expect(input.data).toBeInstanceOf(Uint8Array);
    expect([...input.data]).toEqual([0, 0, 1, 128, 255, 255]);
    expect(() => modelInputs([0, 0, 0, 0, 0, 256], [1, 2, 1, 3], 'FP32', spec('uint8'), 'input')).toThrow(
      /element 5 is 256: this model takes uint8 pixels/,
    );
  });

  it('takes UINT8 elements as integers 0..255 only, and no non-numbers at all', () => {
    expect(() => modelInputs([0, 0, 0, 0, 0, 1.5], [1, 2, 1, 3], 'UINT8', spec('float32'), 'input')).toThrow(
      /element 5 is 1.5: UINT8 elements are integers/,
    );
    expect(() => modelInputs([0, 0, 0, 0, '1', 0], [1, 2, 1, 3], 'FP32', spec('float32'), 'input')).toThrow(
      /element 4 is "1": FP32 elements are finite numbers/,
    );
  });

  it("refuses a shape that is not this model's NHWC input, as a 400 problem", () => {
    let error: unknown;
    try {
      modelInputs([], [0, 1, 2, 3], 'FP32', spec('float32'), 'input');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ProblemError);
    expect(error).toMatchObject({
      status: 400,
      detail: expect.stringContaining('must have shape [N, 2, 1, 3]'),
    });
  });
});
