import { describe, expect, it } from 'vitest';
import { CUSTOM_CLASS, prepareKerasConfig } from './keras-config';
import type { JsonValue } from './layer-rules';

type Json = { [key: string]: JsonValue };

function model(...layers: Json[]): Json {
  const input: Json = {
    class_name: 'InputLayer',
    config: {
      batch_input_shape: [null, 4, 4, 3],
      dtype: 'float32',
      sparse: false,
      ragged: false,
      name: 'input',
    },
    name: 'input',
    inbound_nodes: [],
  };
  return {
    class_name: 'Functional',
    config: { name: 'm', layers: [input, ...layers], input_layers: [['input', 0, 0]], output_layers: [] },
  };
}

function layer(className: string, config: Json, name = 'l'): Json {
  return {
    class_name: className,
    config: { name, trainable: true, dtype: 'float32', ...config },
    name,
    inbound_nodes: [[['input', 0, 0, {}]]],
  };
}

const prepared = (entry: Json) => prepareKerasConfig(model(entry), 'm.h5');
const preparedLayer = (entry: Json): Json => ((prepared(entry).config as Json).layers as Json[])[1];

describe('prepareKerasConfig', () => {
  it('replaces a mixed_float16 dtype policy by float32 (computed in float32)', () => {
    const out = preparedLayer(
      layer('Activation', {
        activation: 'swish',
        dtype: { class_name: 'Policy', config: { name: 'mixed_float16' } },
      }),
    );
    expect((out.config as Json).dtype).toBe('float32');
  });

  it('refuses a non-float dtype policy', () => {
    expect(() => prepared(layer('Activation', { activation: 'relu', dtype: 'int32' }))).toThrow(
      /computes in "int32"; only float models/,
    );
  });

  it('drops keys TF.js ignores only once their value is the harmless one', () => {
    const relu = preparedLayer(layer('ReLU', { max_value: 6, negative_slope: 0, threshold: 0 }));
    expect(relu.config).toEqual({ name: 'l', trainable: true, dtype: 'float32', max_value: 6 });
    expect(() => prepared(layer('ReLU', { max_value: null, negative_slope: 0.1, threshold: 0 }))).toThrow(
      /layer "l" \(ReLU\) has negative_slope = 0.1, which TF.js cannot compute/,
    );
    expect(() => prepared(layer('Conv2D', { filters: 2, kernel_size: [1, 1], groups: 3 }))).toThrow(
      /has groups = 3/,
    );
    expect(() =>
      prepared(layer('Conv2D', { filters: 2, kernel_size: [1, 1], data_format: 'channels_first' })),
    ).toThrow(/has data_format = "channels_first"/);
  });

  it('refuses a setting it does not know rather than ignoring it', () => {
    expect(() => prepared(layer('Dense', { units: 3, kernel_quantizer: 'int8' }))).toThrow(
      /layer "l" \(Dense\) has the setting "kernel_quantizer" = "int8", which this loader does not know/,
    );
  });

  it('builds GlobalAveragePooling2D with keepdims as its own layer, and without as TF.js does', () => {
    const kept = preparedLayer(
      layer('GlobalAveragePooling2D', { data_format: 'channels_last', keepdims: true }),
    );
    expect(kept.class_name).toBe(CUSTOM_CLASS.globalPooling);
    expect((kept.config as Json).mode).toBe('avg');
    const flat = preparedLayer(
      layer('GlobalAveragePooling2D', { data_format: 'channels_last', keepdims: false }),
    );
    expect(flat.class_name).toBe('GlobalAveragePooling2D');
    expect((flat.config as Json).keepdims).toBeUndefined();
  });

  it('builds Normalization with its own layer and turns a one-element BatchNormalization axis list into a number', () => {
    expect(preparedLayer(layer('Normalization', { axis: [3], mean: null, variance: null })).class_name).toBe(
      CUSTOM_CLASS.normalization,
    );
    expect(
      (preparedLayer(layer('BatchNormalization', { axis: [3], epsilon: 0.001 })).config as Json).axis,
    ).toBe(3);
    expect(() => prepared(layer('BatchNormalization', { axis: [1, 2] }))).toThrow(
      /normalises over axes \[1,2\]/,
    );
  });

  it('refuses activations it cannot reproduce and code layers', () => {
    expect(() => prepared(layer('Activation', { activation: 'hard_swish' }))).toThrow(
      /uses the activation "hard_swish"/,
    );
    expect(() => prepared(layer('TFOpLambda', { function: 'math.add' }))).toThrow(
      /Lambda or custom layer holding Python code/,
    );
    expect(() => prepared({ ...layer('Dense', { units: 2 }), registered_name: 'MyDense' })).toThrow(
      /custom class "MyDense"/,
    );
  });

  it('refuses call arguments other than training', () => {
    const called = { ...layer('Dense', { units: 2 }), inbound_nodes: [[['input', 0, 0, { mask: true }]]] };
    expect(() => prepared(called)).toThrow(/is called with the argument "mask"/);
  });

  it('shifts references to a nested model past the node Keras leaves out of the config', () => {
    const nested: Json = {
      ...model(layer('Dense', { units: 2 }, 'inner')),
      name: 'base',
      inbound_nodes: [[['input', 0, 0, { training: false }]]],
    };
    (nested.config as Json).name = 'base';
    const after = { ...layer('Dense', { units: 2 }, 'after'), inbound_nodes: [[['base', 0, 0, {}]]] };
    const root = model(nested, after);
    (root.config as Json).output_layers = [['after', 0, 0]];
    const out = prepareKerasConfig(root, 'm.h5').config as Json;
    const layers = out.layers as Json[];
    expect(layers[2].inbound_nodes).toEqual([[['base', 1, 0, {}]]]);
    expect(out.output_layers).toEqual([['after', 0, 0]]);
  });
});
