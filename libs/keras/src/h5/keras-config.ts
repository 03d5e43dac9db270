import { KerasModelError } from '../keras-model-error';
import {
  ACTIVATIONS,
  CODE_LAYERS,
  COMMON_KEYS,
  LAYER_RULES,
  MODEL_CLASSES,
  type JsonValue,
} from './layer-rules';
import type { LambdaLayerMap } from './lambda-layers';
import { checkNodeReferences } from './node-references';

type JsonObject = { [key: string]: JsonValue };

/** Custom TF.js layer classes this loader registers for what TF.js lacks (see custom-layers.ts). */
export const CUSTOM_CLASS = {
  normalization: 'FoodVisionKerasNormalization',
  globalPooling: 'FoodVisionKerasGlobalPooling2D',
  clip: 'FoodVisionKerasClip',
} as const;

/** Float dtype policies: all are computed in float32 here (mixed_float16 computes in float16 in Keras). */
const FLOAT_POLICIES = new Set([
  'float32',
  'float64',
  'float16',
  'bfloat16',
  'mixed_float16',
  'mixed_bfloat16',
]);
const INBOUND_KWARGS = new Set(['training']);
const ENTRY_KEYS = new Set(['class_name', 'config', 'name', 'inbound_nodes', 'module', 'registered_name']);

const isObject = (value: JsonValue | undefined): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const show = (value: JsonValue | undefined): string =>
  value === undefined ? 'absent' : JSON.stringify(value);

class ConfigChecker {
  constructor(
    private readonly file: string,
    private readonly lambdas: LambdaLayerMap,
  ) {}

  /** Every Lambda layer must be mapped by the manifest: all unmapped ones are named at once. */
  lambdaLayers(root: JsonValue): void {
    const unmapped: string[] = [];
    const found = new Set<string>();
    const walk = (entry: JsonValue | undefined): void => {
      if (!isObject(entry) || !isObject(entry.config)) return;
      const layers = entry.config.layers;
      if (!Array.isArray(layers)) return;
      for (const layer of layers) {
        if (!isObject(layer) || !isObject(layer.config)) continue;
        const name =
          typeof layer.config.name === 'string'
            ? layer.config.name
            : typeof layer.name === 'string'
              ? layer.name
              : '';
        if (layer.class_name === 'Lambda') {
          found.add(name);
          if (!(name in this.lambdas)) unmapped.push(name);
        }
        walk(layer);
      }
    };
    walk(root);
    const stray = Object.keys(this.lambdas).filter((name) => !found.has(name));
    if (stray.length > 0) {
      this.refuse(
        `the manifest maps lambda_layers ${stray.join(', ')}, which are not Lambda layers of this model`,
      );
    }
    if (unmapped.length > 0) {
      this.refuse(
        `it has ${unmapped.length} Lambda layer(s) holding Python code, which cannot run here: ${unmapped.join(', ')}. If you know what each computes, map it in the manifest, e.g. "lambda_layers": {"${unmapped[0]}": {"op": "clip", "min": -4, "max": 4}}; otherwise replace them with built-in layers or export the model to ONNX, TFLite or TF.js`,
      );
    }
  }

  refuse(why: string): never {
    throw new KerasModelError(`The Keras model ${this.file} cannot be served: ${why}.`);
  }

  model(entry: JsonValue, path: string): JsonObject {
    if (!isObject(entry) || typeof entry.class_name !== 'string' || !isObject(entry.config)) {
      this.refuse(`${path} is not a Keras model config (no class_name/config)`);
    }
    if (!MODEL_CLASSES.has(entry.class_name)) {
      this.refuse(`${path} is a ${entry.class_name}, not a Functional or Sequential model`);
    }
    const config = entry.config;
    const known = new Set(['name', 'layers', 'input_layers', 'output_layers']);
    for (const key of Object.keys(config)) {
      if (!known.has(key))
        this.refuse(`model ${path} has the setting "${key}", which this loader does not know`);
    }
    if (!Array.isArray(config.layers) || config.layers.length === 0)
      this.refuse(`model ${path} has no layers`);
    if (config.layers.length > 10_000) this.refuse(`model ${path} has more than 10000 layers`);
    const layers = config.layers.map((layer) => this.layer(layer, path));
    const checked = { ...config, layers };
    if (entry.class_name === 'Sequential') return { ...entry, config: checked };
    return {
      ...entry,
      config: checkNodeReferences(checked, path === 'the model' ? path : `model ${path}`, (why) =>
        this.refuse(why),
      ),
    };
  }

  private layer(entry: JsonValue, parent: string): JsonObject {
    if (!isObject(entry) || typeof entry.class_name !== 'string' || !isObject(entry.config)) {
      this.refuse(`a layer of ${parent} is not a Keras layer config`);
    }
    const className = entry.class_name;
    const name = typeof entry.config.name === 'string' ? entry.config.name : show(entry.name);
    const where = `layer "${name}" (${className})`;
    for (const key of Object.keys(entry)) {
      if (!ENTRY_KEYS.has(key))
        this.refuse(`${where} has the entry "${key}", which this loader does not know`);
    }
    if (entry.registered_name != null && entry.registered_name !== className) {
      this.refuse(
        `${where} is the custom class ${show(entry.registered_name)}, whose Python code cannot run here`,
      );
    }
    const lambda = className === 'Lambda' ? this.lambdas[name] : undefined;
    if (lambda) {
      this.inboundNodes(entry.inbound_nodes, where);
      return {
        ...entry,
        class_name: CUSTOM_CLASS.clip,
        config: { name, trainable: false, dtype: 'float32', min: lambda.min, max: lambda.max },
      };
    }
    if (CODE_LAYERS.has(className)) {
      this.refuse(
        `${where} is a Lambda or custom layer holding Python code, which cannot be rebuilt outside Python: replace it with built-in layers or export the model to ONNX, TFLite or TF.js`,
      );
    }
    this.inboundNodes(entry.inbound_nodes, where);
    if (MODEL_CLASSES.has(className)) return this.model(entry, `"${name}"`);
    const rule = LAYER_RULES[className];
    if (!rule) {
      this.refuse(
        `${where} is a layer class this loader cannot rebuild (it knows ${Object.keys(LAYER_RULES).join(', ')}): export the model to ONNX, TFLite or TF.js`,
      );
    }
    const config: JsonObject = { ...entry.config };
    const allowed = new Set([
      ...COMMON_KEYS,
      ...(rule.honoured ?? []),
      ...(rule.inert ?? []),
      ...Object.keys(rule.required ?? {}),
    ]);
    for (const key of Object.keys(config)) {
      if (!allowed.has(key)) {
        this.refuse(
          `${where} has the setting "${key}" = ${show(config[key])}, which this loader does not know, so it cannot be honoured`,
        );
      }
    }
    for (const [key, accepts] of Object.entries(rule.required ?? {})) {
      if (!accepts(config[key])) {
        this.refuse(`${where} has ${key} = ${show(config[key])}, which TF.js cannot compute`);
      }
      delete config[key];
    }
    if ('dtype' in config) config.dtype = this.dtype(config.dtype, where);
    if ('activation' in config) config.activation = this.activation(config.activation, where);
    return { ...entry, class_name: this.rewrite(className, config, where), config };
  }

  private inboundNodes(nodes: JsonValue | undefined, where: string): void {
    if (nodes === undefined) return;
    if (!Array.isArray(nodes))
      this.refuse(`${where} has inbound_nodes in a format this loader does not know`);
    for (const node of nodes) {
      if (!Array.isArray(node))
        this.refuse(`${where} has inbound_nodes in a format this loader does not know`);
      for (const input of node) {
        if (!Array.isArray(input) || typeof input[0] !== 'string') {
          this.refuse(
            `${where} has inbound_nodes in a format this loader does not know (Keras 3 files are not supported)`,
          );
        }
        const kwargs = input[3];
        if (kwargs !== undefined && !isObject(kwargs))
          this.refuse(`${where} is called with arguments this loader does not know`);
        for (const key of Object.keys(kwargs ?? {})) {
          if (!INBOUND_KWARGS.has(key))
            this.refuse(`${where} is called with the argument "${key}", which this loader does not know`);
        }
      }
    }
  }

  private dtype(value: JsonValue, where: string): string {
    const policy = isObject(value) && isObject(value.config) ? value.config.name : value;
    if (isObject(value) && value.class_name !== 'Policy' && value.class_name !== 'PolicyV1') {
      this.refuse(`${where} has the dtype ${show(value)}, which this loader does not know`);
    }
    if (typeof policy !== 'string' || !FLOAT_POLICIES.has(policy)) {
      this.refuse(`${where} computes in ${show(policy)}; only float models are supported`);
    }
    return 'float32';
  }

  private activation(value: JsonValue, where: string): string {
    const mapped = typeof value === 'string' ? ACTIVATIONS[value] : undefined;
    if (!mapped) {
      this.refuse(
        `${where} uses the activation ${show(value)}; supported: ${Object.keys(ACTIVATIONS).join(', ')}`,
      );
    }
    return mapped;
  }

  /** Class-specific checks and the class name TF.js should build. */
  private rewrite(className: string, config: JsonObject, where: string): string {
    switch (className) {
      case 'BatchNormalization': {
        const axis = Array.isArray(config.axis) && config.axis.length === 1 ? config.axis[0] : config.axis;
        if (typeof axis !== 'number')
          this.refuse(`${where} normalises over axes ${show(config.axis)}; only one axis is supported`);
        config.axis = axis;
        return className;
      }
      case 'GlobalAveragePooling2D':
      case 'GlobalMaxPooling2D': {
        const keepdims = config.keepdims;
        delete config.keepdims;
        if (keepdims === true) {
          config.mode = className === 'GlobalAveragePooling2D' ? 'avg' : 'max';
          return CUSTOM_CLASS.globalPooling;
        }
        if (keepdims !== false && keepdims !== undefined)
          this.refuse(`${where} has keepdims = ${show(keepdims)}`);
        return className;
      }
      case 'Rescaling':
        if (
          typeof config.scale !== 'number' ||
          (config.offset !== undefined && typeof config.offset !== 'number')
        ) {
          this.refuse(
            `${where} has a per-channel scale or offset (${show(config.scale)}, ${show(config.offset)}); only numbers are supported`,
          );
        }
        return className;
      case 'Normalization':
        return CUSTOM_CLASS.normalization;
      case 'ReLU':
        if (
          config.max_value !== undefined &&
          config.max_value !== null &&
          typeof config.max_value !== 'number'
        ) {
          this.refuse(`${where} has max_value = ${show(config.max_value)}`);
        }
        return className;
      default:
        return className;
    }
  }
}

/**
 * Checks a Keras 2.x `model_config` layer by layer and returns it in the form TF.js layers builds: dtype
 * policies replaced by float32, custom classes where TF.js has none, keys TF.js would silently ignore
 * removed only after their value was checked to be the harmless one. Throws a KerasModelError naming the
 * first layer and setting it cannot honour.
 */
export function prepareKerasConfig(
  modelConfig: JsonValue,
  file: string,
  lambdaLayers: LambdaLayerMap = {},
): JsonObject {
  const checker = new ConfigChecker(file, lambdaLayers);
  checker.lambdaLayers(modelConfig);
  return checker.model(modelConfig, 'the model');
}
