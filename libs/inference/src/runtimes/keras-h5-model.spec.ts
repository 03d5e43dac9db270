import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as TfCore from '@tensorflow/tfjs-core';
import {
  INPUT_SIZE,
  efficientNetLikeConfig,
  efficientNetLikeFile,
  efficientNetLikeReference,
} from '../../../../test/support/efficientnet-like-keras';
import { writeKerasH5 } from '../../../../test/support/keras-h5-writer';
import { selectTfjsBackend } from './tfjs-backend';
import { DEFAULT_KERAS_H5_LIMITS, loadKerasH5Model } from '../../../keras/src/h5/keras-h5-model';

interface LayerJson {
  class_name: string;
  name: string;
  config: Record<string, unknown> & { layers?: LayerJson[] };
  inbound_nodes: unknown[];
}
type Json = { config: { layers: LayerJson[] } };

let tf: typeof TfCore;
let dir: string;

beforeAll(async () => {
  ({ tf } = await selectTfjsBackend());
  dir = mkdtempSync(join(tmpdir(), 'keras-h5-'));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function nestedLayers(config: Json): LayerJson[] {
  return config.config.layers.find((layer) => layer.name === 'efficientnetb0')!.config.layers!;
}

async function writeModel(name: string, mutate?: (config: Json) => void): Promise<string> {
  const config = efficientNetLikeConfig() as unknown as Json;
  mutate?.(config);
  const path = join(dir, `${name}.h5`);
  await writeKerasH5(path, efficientNetLikeFile(7, config));
  return path;
}

describe('loadKerasH5Model with an EfficientNet-like Keras 2.x file', () => {
  it('computes what the same graph computes in plain TF.js ops, to 1e-5', async () => {
    const path = await writeModel('efficientnet-like');
    const { model, info } = await loadKerasH5Model(tf, path);
    expect(info.kerasVersion).toBe('2.7.0');
    expect(model.inputs[0].shape).toEqual([null, INPUT_SIZE, INPUT_SIZE, 3]);
    const pixels = Float32Array.from({ length: 2 * INPUT_SIZE * INPUT_SIZE * 3 }, (_, i) => (i * 37) % 256);
    const input = tf.tensor4d(pixels, [2, INPUT_SIZE, INPUT_SIZE, 3]);
    const actual = model.predict(input) as TfCore.Tensor;
    const expected = efficientNetLikeReference(tf, input);
    const a = await actual.data();
    const e = await expected.data();
    const maxDiff = Math.max(...Array.from(a, (value, i) => Math.abs(value - e[i])));
    expect(maxDiff).toBeLessThanOrEqual(1e-5);
    // Not a constant: the two images get different distributions.
    expect(Math.abs(a[0] - a[5])).toBeGreaterThan(1e-4);
    tf.dispose([input, actual, expected]);
    model.dispose();
  });

  it('loads weights by name, so a nested model whose weights are stored out of layer order still matches', async () => {
    const path = join(dir, 'reordered.h5');
    const content = efficientNetLikeFile(7);
    const nested = content.layers.find((layer) => layer.name === 'efficientnetb0')!;
    nested.weights.reverse();
    await writeKerasH5(path, content);
    const { model } = await loadKerasH5Model(tf, path);
    const input = tf.fill([1, INPUT_SIZE, INPUT_SIZE, 3], 100);
    const actual = model.predict(input) as TfCore.Tensor;
    const expected = efficientNetLikeReference(tf, input as TfCore.Tensor4D);
    const a = await actual.data();
    const e = await expected.data();
    expect(Math.max(...Array.from(a, (value, i) => Math.abs(value - e[i])))).toBeLessThanOrEqual(1e-5);
    tf.dispose([input, actual, expected]);
    model.dispose();
  });

  it('refuses a weight whose shape does not fit the layer', async () => {
    const path = join(dir, 'bad-shape.h5');
    const content = efficientNetLikeFile(7);
    const dense = content.layers.find((layer) => layer.name === 'dense')!;
    dense.weights[1] = { name: 'dense/bias:0', shape: [6], data: new Float32Array(6) };
    await writeKerasH5(path, content);
    await expect(loadKerasH5Model(tf, path)).rejects.toThrow(
      /"dense\/bias" has shape \[6\] in the file but the model expects \[5\]/,
    );
  });
});

describe('loadKerasH5Model refuses what it cannot honour', () => {
  it('refuses a Lambda layer', async () => {
    const path = await writeModel('lambda', (config) => {
      nestedLayers(config).splice(2, 0, {
        class_name: 'Lambda',
        config: {
          name: 'lambda',
          trainable: true,
          dtype: 'float32',
          function: ['4wEAAAAAAAAA', null, null],
          function_type: 'lambda',
        },
        name: 'lambda',
        inbound_nodes: [[['rescaling', 0, 0, {}]]],
      });
    });
    await expect(loadKerasH5Model(tf, path)).rejects.toThrow(
      /it has 1 Lambda layer\(s\) holding Python code, which cannot run here: lambda\. If you know what each computes, map it in the manifest, e\.g\. "lambda_layers": \{"lambda": \{"op": "clip"/,
    );
    await expect(
      loadKerasH5Model(tf, path, undefined, { lambdaLayers: { lambda_9: { op: 'clip', min: 0, max: 1 } } }),
    ).rejects.toThrow(/the manifest maps lambda_layers lambda_9, which are not Lambda layers of this model/);
  });

  it('refuses an unknown layer class', async () => {
    const path = await writeModel('unknown-class', (config) => {
      nestedLayers(config)[1].class_name = 'RandomContrast';
    });
    await expect(loadKerasH5Model(tf, path)).rejects.toThrow(
      /layer "rescaling" \(RandomContrast\) is a layer class this loader cannot rebuild/,
    );
  });

  it('refuses a grouped convolution (TF.js would ignore groups)', async () => {
    const path = await writeModel('groups', (config) => {
      nestedLayers(config).find((layer) => layer.name === 'stem_conv')!.config.groups = 2;
    });
    await expect(loadKerasH5Model(tf, path)).rejects.toThrow(
      /layer "stem_conv" \(Conv2D\) has groups = 2, which TF.js cannot compute/,
    );
  });

  it('refuses a ReLU with a threshold (TF.js would ignore it)', async () => {
    const path = await writeModel('relu-threshold', (config) => {
      const layers = nestedLayers(config);
      const index = layers.findIndex((layer) => layer.name === 'stem_activation');
      layers[index] = {
        class_name: 'ReLU',
        config: {
          name: 'stem_activation',
          trainable: true,
          dtype: 'float32',
          max_value: 6,
          negative_slope: 0,
          threshold: 0.5,
        },
        name: 'stem_activation',
        inbound_nodes: [[['stem_bn', 0, 0, {}]]],
      };
    });
    await expect(loadKerasH5Model(tf, path)).rejects.toThrow(
      /layer "stem_activation" \(ReLU\) has threshold = 0.5/,
    );
  });

  it('refuses a file over the size cap before parsing it', async () => {
    const path = await writeModel('size-cap');
    await expect(
      loadKerasH5Model(tf, path, { ...DEFAULT_KERAS_H5_LIMITS, maxFileBytes: 1000 }),
    ).rejects.toThrow(/bytes, more than the 1000 this service accepts/);
  });

  it('refuses weights over the decoded-size cap', async () => {
    const path = await writeModel('weight-cap');
    await expect(
      loadKerasH5Model(tf, path, { ...DEFAULT_KERAS_H5_LIMITS, maxWeightBytes: 100 }),
    ).rejects.toThrow(/bytes of weights, more than the 100 this service accepts/);
  });

  it('refuses a truncated file', async () => {
    const whole = await writeModel('whole');
    const path = join(dir, 'truncated.h5');
    const bytes = readFileSync(whole);
    writeFileSync(path, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    await expect(loadKerasH5Model(tf, path)).rejects.toThrow(
      /it is truncated: its HDF5 header says \d+ bytes but the file has \d+/,
    );
  });

  it('refuses a file that is not HDF5', async () => {
    const path = join(dir, 'not-h5.h5');
    copyFileSync(join(__dirname, 'keras-h5-runtime.ts'), path);
    await expect(loadKerasH5Model(tf, path)).rejects.toThrow(/does not start with the HDF5 signature/);
  });
});
