import type { ModelInputSpec, ModelManifest } from '@app/inference';

/** A model input spec for tests: 224 × 224 RGB, float32 in [0, 1], bilinear fill; `overrides` change any field. */
export function testInputSpec(overrides: Partial<ModelInputSpec> = {}): ModelInputSpec {
  return {
    height: 224,
    width: 224,
    channels: 3,
    dtype: 'float32',
    channel_order: 'RGB',
    value_range: [0, 1],
    resize: { method: 'bilinear', fit: 'fill' },
    ...overrides,
  };
}

type ManifestOverrides = Omit<Partial<ModelManifest>, 'input'> & { input?: Partial<ModelInputSpec> };

/**
 * A model manifest for tests, one shape for every spec that writes one: a TFLite model `model.tflite` with no
 * files listed, probabilities out, no source; `overrides` change any field (`input` field by field).
 */
export function testManifest(overrides: ManifestOverrides = {}): ModelManifest {
  const { input, ...rest } = overrides;
  return {
    name: 'test-model',
    version: '1',
    format: 'tflite',
    entry: 'model.tflite',
    files: [],
    output: { kind: 'probabilities' },
    source: {},
    license: { name: 'test', redistributable: true },
    ...rest,
    input: testInputSpec(input),
  };
}
