import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FIXTURE_MODELS } from '../../../../test/support/shared-data';
import type { ResolvedModel } from '../manifest/resolved-model';
import { resolveModel } from '../manifest/manifest-loader';
import { LiteRtRuntime } from './litert-runtime';
import { fixDynamicBatchDimension } from './tflite-batch-dimension';

const threeClass = FIXTURE_MODELS.food101ThreeClassTflite;

describe('fixDynamicBatchDimension', () => {
  it('fixes the -1 batch dimension of the real 3-class model to 1 and changes nothing else', () => {
    const original = readFileSync(`${threeClass.dir}/food101.tflite`);
    const { bytes, patched } = fixDynamicBatchDimension(original);
    expect(patched).toBeGreaterThan(0);
    expect(bytes.length).toBe(original.length);
    const changed = [...bytes].flatMap((byte, i) => (byte === original[i] ? [] : [i]));
    // Each patch turns the int32 -1 (ff ff ff ff) into 1 (01 00 00 00): exactly 4 bytes per tensor.
    expect(changed.length).toBe(patched * 4);
    for (let i = 0; i < changed.length; i += 4) {
      expect([...bytes.subarray(changed[i], changed[i] + 4)]).toEqual([1, 0, 0, 0]);
      expect([...original.subarray(changed[i], changed[i] + 4)]).toEqual([255, 255, 255, 255]);
    }
    // The file on disk is untouched.
    expect(readFileSync(`${threeClass.dir}/food101.tflite`).equals(original)).toBe(true);
  });

  it('refuses bytes that are not a flatbuffer', () => {
    expect(() => fixDynamicBatchDimension(new Uint8Array([1, 2, 3]))).toThrow(/truncated/);
  });

  it('lets LiteRT run the dynamic-batch model, whose scores are real probabilities', async () => {
    const resolved: ResolvedModel = await resolveModel({
      manifestPath: threeClass.manifest,
      modelDir: threeClass.dir,
    });
    const runtime = await LiteRtRuntime.load(resolved);
    try {
      expect(runtime.inputShape).toEqual([1, 64, 64, 3]);
      const scores = await runtime.run({
        data: new Float32Array(64 * 64 * 3).fill(0.5),
        shape: [1, 64, 64, 3],
      });
      expect(scores).toHaveLength(3);
      expect(scores.reduce((a, b) => a + b)).toBeCloseTo(1, 4);
    } finally {
      runtime.dispose();
    }
  });
});
