import { MODEL_CLASSES, type JsonValue } from './layer-rules';

type JsonObject = { [key: string]: JsonValue };

const isObject = (value: JsonValue | undefined): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const text = (value: JsonValue | undefined): string => (typeof value === 'string' ? value : '');
const layerName = (layer: JsonObject): string =>
  text(layer.name) || (isObject(layer.config) ? text(layer.config.name) : '');

/**
 * Keras 2.x `_should_skip_first_node` (keras/engine/functional.py): a Functional model, or a Sequential whose
 * first layer is an InputLayer (or carries the input shape, which makes Keras add one), already has a node
 * linking its own input to its output before anyone calls it. `get_network_config` leaves that node out and
 * numbers the calls from 1; `reconstruct_from_config` starts counting at 1 again, so config index k is the
 * k-th node of the rebuilt layer. TF.js creates the same pre-existing node, so the index carries over as is.
 */
export function skipsFirstNode(layer: JsonObject): boolean {
  if (layer.class_name === 'Functional' || layer.class_name === 'Model') return true;
  if (layer.class_name !== 'Sequential' || !isObject(layer.config)) return false;
  const first = Array.isArray(layer.config.layers) ? layer.config.layers[0] : undefined;
  return (
    isObject(first) &&
    (first.class_name === 'InputLayer' || (isObject(first.config) && first.config.batch_input_shape != null))
  );
}

interface LayerNodes {
  className: string;
  /** First node index the config uses for this layer's calls. */
  first: number;
  calls: number;
  outputs: number;
}

function outputCount(layer: JsonObject): number {
  if (MODEL_CLASSES.has(text(layer.class_name)) && isObject(layer.config)) {
    const outputs = layer.config.output_layers;
    if (Array.isArray(outputs) && outputs.length > 0 && Array.isArray(outputs[0])) return outputs.length;
    return 1;
  }
  return 1;
}

/**
 * Checks, before anything is built, that every reference in a Keras 2.x Functional config (each layer's
 * `inbound_nodes`, `input_layers`, `output_layers`) names a layer of the same model, a node that layer has,
 * and a tensor that node outputs, and that the calls do not wait on each other in a cycle. TF.js (like
 * Keras, whose `reconstruct_from_config` warns "this may lead to infinite loops for malformed network
 * configurations") re-queues a call whose input is missing forever, so a bad reference would hang the load.
 * Returns the config with references to an InputLayer set to node 0, as Keras' `get_node_index` reads them.
 * `refuse` throws with one sentence naming the layer and the reference.
 */
export function checkNodeReferences(
  config: JsonObject,
  modelName: string,
  refuse: (why: string) => never,
): JsonObject {
  const layers = Array.isArray(config.layers) ? config.layers.filter(isObject) : [];
  const nodes = new Map<string, LayerNodes>();
  for (const layer of layers) {
    const name =
      typeof layer.name === 'string' ? layer.name : isObject(layer.config) ? layer.config.name : '';
    if (typeof name !== 'string' || name === '') refuse(`a layer of ${modelName} has no name`);
    if (nodes.has(name)) refuse(`${modelName} has two layers named "${name}"`);
    const calls = Array.isArray(layer.inbound_nodes) ? layer.inbound_nodes.length : 0;
    nodes.set(name, {
      className: text(layer.class_name),
      first: skipsFirstNode(layer) ? 1 : 0,
      calls,
      outputs: outputCount(layer),
    });
  }

  /** The node a reference points at as "name#index", or undefined for an InputLayer's own node. */
  const resolve = (ref: JsonValue, where: string): { ref: JsonValue; node?: string } => {
    if (!Array.isArray(ref) || typeof ref[0] !== 'string' || typeof ref[1] !== 'number') {
      refuse(`${where} refers to ${JSON.stringify(ref)}, which is not a [layer, node, tensor] reference`);
    }
    const [name, index, tensor] = ref as [string, number, JsonValue];
    const target = nodes.get(name);
    const shown = `["${name}", ${index}, ${JSON.stringify(tensor)}]`;
    if (!target) refuse(`${where} refers to ${shown}, but ${modelName} has no layer "${name}"`);
    if (typeof tensor !== 'number' || !Number.isInteger(tensor) || tensor < 0 || tensor >= target.outputs) {
      refuse(`${where} refers to ${shown}, but "${name}" has ${target.outputs} output(s)`);
    }
    if (target.className === 'InputLayer') return { ref: [name, 0, ...ref.slice(2)] };
    const last = target.first + target.calls - 1;
    if (!Number.isInteger(index) || index < target.first || index > last) {
      const has =
        target.calls === 0
          ? 'is never called'
          : target.calls === 1
            ? `has only node ${target.first}`
            : `has nodes ${target.first} to ${last}`;
      refuse(`${where} refers to ${shown}, but "${name}" ${has} in the config (a dangling node reference)`);
    }
    return { ref, node: `${name}#${index}` };
  };

  const waitsOn = new Map<string, string[]>();
  const rewired = layers.map((layer) => {
    const name = layerName(layer);
    const target = nodes.get(name)!;
    if (!Array.isArray(layer.inbound_nodes)) return layer;
    const inbound = layer.inbound_nodes.map((call, k) => {
      const index = target.first + k;
      const where = `layer "${name}" (${target.className}) call ${index}`;
      const deps = k > 0 ? [`${name}#${index - 1}`] : [];
      const inputs = (Array.isArray(call) ? call : []).map((input) => {
        const resolved = resolve(input, where);
        if (resolved.node) deps.push(resolved.node);
        return resolved.ref;
      });
      waitsOn.set(`${name}#${index}`, deps);
      return inputs;
    });
    return { ...layer, inbound_nodes: inbound };
  });

  const state = new Map<string, 'open' | 'done'>();
  const visit = (node: string, path: string[]): void => {
    if (state.get(node) === 'done') return;
    if (state.get(node) === 'open') {
      const cycle = [...path.slice(path.indexOf(node)), node].map((n) => n.replace('#', ' node '));
      refuse(`in ${modelName} the calls wait on each other in a cycle (${cycle.join(' → ')})`);
    }
    state.set(node, 'open');
    for (const dep of waitsOn.get(node) ?? []) visit(dep, [...path, node]);
    state.set(node, 'done');
  };
  for (const node of waitsOn.keys()) visit(node, []);

  const ends = (key: 'input_layers' | 'output_layers'): JsonValue | undefined => {
    const refs = config[key];
    if (refs === undefined) return undefined;
    if (!Array.isArray(refs) || refs.length === 0) refuse(`${modelName} has no ${key}`);
    // A single [name, node, tensor] is how some writers store one input or output.
    const list = typeof refs[0] === 'string' ? [refs] : refs;
    return list.map((ref) => resolve(ref, `${modelName} ${key}`).ref);
  };
  const inputs = ends('input_layers');
  const outputs = ends('output_layers');
  return {
    ...config,
    layers: rewired,
    ...(inputs ? { input_layers: inputs } : {}),
    ...(outputs ? { output_layers: outputs } : {}),
  };
}
