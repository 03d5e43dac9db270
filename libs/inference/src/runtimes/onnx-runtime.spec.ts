import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testManifest } from '../../../../test/support/test-manifest';
import { resolveModel } from '../manifest/manifest-loader';
import { checkRuntimeMatchesManifest, createRuntime } from './create-runtime';
import { int, OnnxGraphBuilder } from '../../../keras/src/onnx/onnx-graph-builder';
import { encodeOnnxModel } from '../../../keras/src/onnx/onnx-proto';

/** A channels-first model, as PyTorch exports them: [N, 3, 2, 2] → the mean of each channel, softmaxed. */
function channelsFirstModel(): Uint8Array {
  const graph = new OnnxGraphBuilder('channel-means');
  const input = graph.input('pixels', ['batch', 3, 2, 2]);
  const pooled = graph.node('GlobalAveragePool', [input], 'pooled');
  const flat = graph.node('Flatten', [pooled], 'flat', { axis: int(1) });
  const output = graph.node('Softmax', [flat], 'probabilities', { axis: int(1) });
  graph.output(output, ['batch', 3]);
  return encodeOnnxModel(graph.build(), 13, { name: 'test', version: '1' });
}

describe('a user-supplied .onnx model (format "onnx")', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'onnx-model-'));
    const bytes = channelsFirstModel();
    writeFileSync(join(dir, 'model.onnx'), bytes);
    const manifest = testManifest({
      name: 'channel-means',
      format: 'onnx',
      entry: 'model.onnx',
      files: [
        { path: 'model.onnx', size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') },
      ],
      labels: ['red', 'green', 'blue'],
      input: { height: 2, width: 2 },
      license: { name: 'MIT', redistributable: true },
    });
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loads on onnxruntime, reports its input channels-last, and feeds it NHWC pixels correctly', async () => {
    const resolved = await resolveModel({ manifestPath: join(dir, 'manifest.json') });
    const runtime = await createRuntime(resolved);
    try {
      expect({ engine: runtime.engine, backend: runtime.backend }).toEqual({
        engine: 'onnxruntime',
        backend: 'cpu',
      });
      expect(runtime.inputShape).toEqual([-1, 2, 2, 3]);
      expect(() => checkRuntimeMatchesManifest(runtime, resolved)).not.toThrow();
      // NHWC: every pixel is (red 1, green 0, blue 0) except one pure-blue pixel.
      const data = Float32Array.from([1, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 1]);
      const scores = await runtime.run({ data, shape: [1, 2, 2, 3] });
      const means = [0.75, 0, 0.25];
      const exp = means.map(Math.exp);
      const sum = exp.reduce((a, b) => a + b, 0);
      Array.from(scores).forEach((score, i) => expect(score).toBeCloseTo(exp[i] / sum, 6));
    } finally {
      runtime.dispose();
    }
  });
});
