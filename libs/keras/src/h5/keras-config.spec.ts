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
    config: {
      name: 'm',
      layers: [input, ...layers],
      input_layers: [['input', 0, 0]],
      output_layers: [[(layers.at(-1)?.name as string | undefined) ?? 'input', 0, 0]],
    },
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

  const nestedBase = (): Json => {
    const nested: Json = {
      ...model(layer('Dense', { units: 2 }, 'inner')),
      name: 'base',
      inbound_nodes: [[['input', 0, 0, { training: false }]]],
    };
    (nested.config as Json).name = 'base';
    ((nested.config as Json).layers as Json[])[1].inbound_nodes = [[['input', 0, 0, {}]]];
    (nested.config as Json).output_layers = [['inner', 0, 0]];
    return nested;
  };
  const outerCalling = (node: number): Json => {
    const after = { ...layer('Dense', { units: 2 }, 'after'), inbound_nodes: [[['base', node, 0, {}]]] };
    const root = model(nestedBase(), after);
    (root.config as Json).output_layers = [['after', 0, 0]];
    return root;
  };

  it('keeps node 1 for the first call of a nested model, as Keras 2.x writes and TF.js builds it', () => {
    const out = prepareKerasConfig(outerCalling(1), 'm.h5').config as Json;
    expect((out.layers as Json[])[2].inbound_nodes).toEqual([[['base', 1, 0, {}]]]);
    expect(out.output_layers).toEqual([['after', 0, 0]]);
  });

  it('refuses at once a reference to a node the config does not have, naming layer and reference', () => {
    expect(() => prepareKerasConfig(outerCalling(2), 'm.h5')).toThrow(
      'The Keras model m.h5 cannot be served: layer "after" (Dense) call 0 refers to ["base", 2, 0], but "base" has only node 1 in the config (a dangling node reference).',
    );
    // Node 0 of a nested Functional is its own input-to-output node, which Keras never writes.
    expect(() => prepareKerasConfig(outerCalling(0), 'm.h5')).toThrow(/refers to \["base", 0, 0\]/);
  });

  it('refuses a reference to a layer that does not exist or a tensor it does not output', () => {
    const missing = { ...layer('Dense', { units: 2 }, 'after'), inbound_nodes: [[['nope', 0, 0, {}]]] };
    expect(() => prepared(missing)).toThrow(
      /layer "after" \(Dense\) call 0 refers to \["nope", 0, 0\], but the model has no layer "nope"/,
    );
    const tensor = { ...layer('Dense', { units: 2 }, 'after'), inbound_nodes: [[['input', 0, 1, {}]]] };
    expect(() => prepared(tensor)).toThrow(/"input" has 1 output\(s\)/);
    const root = model(layer('Dense', { units: 2 }, 'a'));
    (root.config as Json).output_layers = [['a', 1, 0]];
    expect(() => prepareKerasConfig(root, 'm.h5')).toThrow(/the model output_layers refers to \["a", 1, 0\]/);
  });

  it('refuses calls that wait on each other in a cycle instead of letting TF.js re-queue them forever', () => {
    const a = { ...layer('Dense', { units: 2 }, 'a'), inbound_nodes: [[['b', 0, 0, {}]]] };
    const b = { ...layer('Dense', { units: 2 }, 'b'), inbound_nodes: [[['a', 0, 0, {}]]] };
    const root = model(a, b);
    (root.config as Json).output_layers = [['b', 0, 0]];
    expect(() => prepareKerasConfig(root, 'm.h5')).toThrow(
      /wait on each other in a cycle \(a node 0 → b node 0 → a node 0\)/,
    );
  });

  it('numbers the calls of a shared layer and of a model called twice from their first node', () => {
    const twice = { ...nestedBase(), inbound_nodes: [[['input', 0, 0, {}]], [['input', 0, 0, {}]]] };
    const shared = {
      ...layer('Add', {}, 'sum'),
      inbound_nodes: [
        [
          ['base', 1, 0, {}],
          ['base', 2, 0, {}],
        ],
      ],
    };
    const dense = {
      ...layer('Dense', { units: 2 }, 'shared'),
      inbound_nodes: [[['sum', 0, 0, {}]], [['shared', 0, 0, {}]]],
    };
    const root = model(twice, shared, dense);
    (root.config as Json).output_layers = [['shared', 1, 0]];
    expect(() => prepareKerasConfig(root, 'm.h5')).not.toThrow();
    (root.config as Json).output_layers = [['shared', 2, 0]];
    expect(() => prepareKerasConfig(root, 'm.h5')).toThrow(/"shared" has nodes 0 to 1/);
    const three = {
      ...shared,
      inbound_nodes: [
        [
          ['base', 1, 0, {}],
          ['base', 3, 0, {}],
        ],
      ],
    };
    expect(() => prepareKerasConfig(model(twice, three), 'm.h5')).toThrow(/"base" has nodes 1 to 2/);
  });
});
