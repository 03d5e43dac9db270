import { describe, expect, it } from 'vitest';
import type { ModelInputSpec } from '@app/inference';
import { ProblemError } from '@app/problem';
import { elementCount, flattenTensorData, imageElements, modelInputs } from './tensor-data';
import { testInputSpec } from '../../../../test/support/test-manifest';
import type { TensorData } from './inference-request';

const json = (values: unknown[]): TensorData => ({ form: 'values', values });
const raw = (bytes: ArrayLike<number> | Float32Array): TensorData => ({
  form: 'raw',
  bytes: bytes instanceof Float32Array ? new Uint8Array(bytes.buffer) : Uint8Array.from(bytes),
});

const spec = (dtype: 'uint8' | 'float32'): ModelInputSpec =>
  testInputSpec({ height: 2, width: 1, dtype, value_range: [0, 255] });

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

  it('takes BYTES elements as base64 strings (JSON) or bytes (gRPC, raw), never re-encoded', () => {
    expect(imageElements(json(['a', 'b']), [2], 'image')).toEqual(['a', 'b']);
    const typed = imageElements(json([Uint8Array.of(1, 2)]), [1], 'image');
    expect(Buffer.isBuffer(typed[0]) && [...typed[0]]).toEqual([1, 2]);
    expect(() => imageElements(json(['a', 7]), [2], 'image')).toThrow(/element 1 is not a string/);
    // Raw: a 4-byte little-endian length before each element.
    const elements = imageElements(raw([2, 0, 0, 0, 9, 8, 1, 0, 0, 0, 7]), [2], 'image');
    expect(elements.map((element) => [...(element as Buffer)])).toEqual([[9, 8], [7]]);
    expect(() => imageElements(raw([2, 0, 0, 0, 9, 8]), [2], 'image')).toThrow(
      /holds 2 elements, but its raw contents have 1/,
    );
    expect(() => imageElements(raw([5, 0, 0, 0, 9]), [1], 'image')).toThrow(/a BYTES element is cut off/);
    expect(() => imageElements(raw([5, 0]), [1], 'image')).toThrow(/length is cut off/);
  });

  it('reads raw UINT8 and FP32 tensors into the same model inputs as their JSON values, each with its own buffer', () => {
    const pixels = [0, 0.4, 0.6, 127.5, 254.9, 255, 10, 11, 12, 13, 14, 15];
    for (const dtype of ['uint8', 'float32'] as const) {
      const fromJson = modelInputs(json(pixels), [2, 2, 1, 3], 'FP32', spec(dtype), 'input');
      const source = Float32Array.from(pixels);
      const fromRaw = modelInputs(raw(source), [2, 2, 1, 3], 'FP32', spec(dtype), 'input');
      expect(fromRaw.map((input) => [...input.data])).toEqual(fromJson.map((input) => [...input.data]));
      expect(fromRaw[0].data.constructor).toBe(fromJson[0].data.constructor);
      // Transferable: each input owns its whole buffer, and it is not the request's.
      expect(fromRaw[0].data.byteLength).toBe(fromRaw[0].data.buffer.byteLength);
      expect(fromRaw[0].data.buffer).not.toBe(source.buffer);
      const integers = pixels.map(Math.round);
      expect(
        modelInputs(raw(integers), [2, 2, 1, 3], 'UINT8', spec(dtype), 'input').map((input) => [
          ...input.data,
        ]),
      ).toEqual(
        modelInputs(json(integers), [2, 2, 1, 3], 'UINT8', spec(dtype), 'input').map((input) => [
          ...input.data,
        ]),
      );
    }
  });

  it('refuses raw tensors of the wrong length, non-finite FP32 values, and FP32 pixels outside 0..255', () => {
    expect(() => modelInputs(raw([1, 2, 3, 4, 5]), [1, 2, 1, 3], 'UINT8', spec('uint8'), 'input')).toThrow(
      /holds 6 UINT8 elements \(6 bytes\), but its raw contents have 5 bytes/,
    );
    expect(() =>
      modelInputs(raw(new Float32Array(5)), [1, 2, 1, 3], 'FP32', spec('float32'), 'input'),
    ).toThrow(/\(24 bytes\), but its raw contents have 20 bytes/);
    expect(() =>
      modelInputs(
        raw(Float32Array.of(0, 0, Number.NaN, 0, 0, 0)),
        [1, 2, 1, 3],
        'FP32',
        spec('float32'),
        'input',
      ),
    ).toThrow(/element 2 is NaN: FP32 elements are finite/);
    expect(() =>
      modelInputs(raw(Float32Array.of(0, 0, 0, 0, 0, 256)), [1, 2, 1, 3], 'FP32', spec('uint8'), 'input'),
    ).toThrow(/element 5 is 256: this model takes uint8 pixels/);
  });

  it('splits an NHWC tensor into one model input per image, as float32 for float models', () => {
    const values = [0.5, -1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15];
    const inputs = modelInputs(json(values), [2, 2, 1, 3], 'FP32', spec('float32'), 'input');
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
      json([0, 0.4, 0.6, 127.5, 254.9, 255]),
      [1, 2, 1, 3],
      'FP32',
      spec('uint8'),
      'input',
    );
    expect(input.data).toBeInstanceOf(Uint8Array);
    expect([...input.data]).toEqual([0, 0, 1, 128, 255, 255]);
    expect(() =>
      modelInputs(json([0, 0, 0, 0, 0, 256]), [1, 2, 1, 3], 'FP32', spec('uint8'), 'input'),
    ).toThrow(/element 5 is 256: this model takes uint8 pixels/);
  });

  it('takes UINT8 elements as integers 0..255 only, and no non-numbers at all', () => {
    expect(() =>
      modelInputs(json([0, 0, 0, 0, 0, 1.5]), [1, 2, 1, 3], 'UINT8', spec('float32'), 'input'),
    ).toThrow(/element 5 is 1.5: UINT8 elements are integers/);
    expect(() =>
      modelInputs(json([0, 0, 0, 0, '1', 0]), [1, 2, 1, 3], 'FP32', spec('float32'), 'input'),
    ).toThrow(/element 4 is "1": FP32 elements are finite numbers/);
  });

  it("refuses a shape that is not this model's NHWC input, as a 400 problem", () => {
    let error: unknown;
    try {
      modelInputs(json([]), [0, 1, 2, 3], 'FP32', spec('float32'), 'input');
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
