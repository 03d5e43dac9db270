import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { DEFAULT_KERAS_H5_LIMITS, H5File, KerasModelError } from '@app/keras';
import { ModelLoadError } from '../manifest/model-load-error';
import type { OutputKind } from '../manifest/model-manifest';
import { loadLiteRtForNode } from '../runtimes/litert-node-loader';
import type { Detected } from './draft-types';

type Json = { [key: string]: unknown };
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The identifiers a Lambda layer's marshalled Python code mentions (a hint for the person). */
function lambdaMentions(layer: Json): string[] {
  const code: unknown =
    isObject(layer.config) && Array.isArray(layer.config.function)
      ? (layer.config.function as unknown[])[0]
      : undefined;
  if (typeof code !== 'string') return [];
  const text = Buffer.from(code, 'base64').toString('latin1');
  const words = text.match(/[a-z_][a-z0-9_]{3,}/g) ?? [];
  // Names the code uses (e.g. clip_by_value), not the `<lambda>` marker or parts of its file path.
  const named = words.filter(
    (word) => word !== 'lambda' && !text.includes(`/${word}`) && !text.includes(`${word}/`),
  );
  return [...new Set(named)].slice(0, 6);
}

/** Input shape, output activation and built-in preprocessing of a Keras 2.x / TF.js layers model config. */
function readKerasConfig(
  config: unknown,
): Pick<Detected, 'inputShape' | 'outputKind' | 'rescalesItself' | 'lambdaLayers'> {
  const layers: Json[] = [];
  const walk = (model: unknown): void => {
    if (!isObject(model)) return;
    const config = model.config;
    const list = Array.isArray(config) ? config : isObject(config) ? config.layers : undefined;
    if (!Array.isArray(list)) return;
    for (const layer of list) {
      if (!isObject(layer)) continue;
      layers.push(layer);
      walk(layer);
    }
  };
  walk(config);
  const first = layers.find(
    (layer) => isObject(layer.config) && Array.isArray(layer.config.batch_input_shape),
  );
  const inputShape =
    first && isObject(first.config) ? (first.config.batch_input_shape as Array<number | null>) : undefined;
  const last = layers.at(-1);
  const activation = last && isObject(last.config) ? last.config.activation : undefined;
  const outputKind: OutputKind | undefined =
    last?.class_name === 'Softmax' || activation === 'softmax'
      ? 'probabilities'
      : last
        ? 'logits'
        : undefined;
  const rescalesItself = layers.some(
    (layer) => layer.class_name === 'Rescaling' || layer.class_name === 'Normalization',
  );
  const lambdaLayers = layers
    .filter((layer) => layer.class_name === 'Lambda')
    .map((layer) => ({
      name: String(isObject(layer.config) ? layer.config.name : layer.name),
      mentions: lambdaMentions(layer),
    }));
  return { inputShape, outputKind, rescalesItself, lambdaLayers };
}

async function detectTfjs(dir: string, entry: string): Promise<Detected> {
  const json = JSON.parse(await readFile(join(dir, entry), 'utf8')) as Json;
  const topology = json.modelTopology;
  const shards = (Array.isArray(json.weightsManifest) ? json.weightsManifest : []).flatMap(
    (group: unknown) => (isObject(group) && Array.isArray(group.paths) ? (group.paths as string[]) : []),
  );
  const prefix = entry.includes('/') ? entry.slice(0, entry.lastIndexOf('/') + 1) : '';
  const files = [entry, ...shards.map((shard) => `${prefix}${shard}`)];
  const isGraph = json.format === 'graph-model' || (isObject(topology) && 'node' in topology);
  if (isGraph) return { format: 'tfjs-graph', entry, files };
  const config = isObject(topology) && 'model_config' in topology ? topology.model_config : topology;
  return { format: 'tfjs-layers', entry, files, ...readKerasConfig(config) };
}

async function detectKeras(dir: string, entry: string): Promise<Detected> {
  const h5 = await H5File.open(join(dir, entry), DEFAULT_KERAS_H5_LIMITS).catch((error: unknown) => {
    throw error instanceof KerasModelError ? new ModelLoadError(error.message, { cause: error }) : error;
  });
  try {
    const text = h5.stringAttribute('/', 'model_config');
    return { format: 'keras-h5', entry, files: [entry], ...(text ? readKerasConfig(JSON.parse(text)) : {}) };
  } finally {
    h5.close();
  }
}

async function detectTflite(dir: string, entry: string): Promise<Detected> {
  const liteRt = await loadLiteRtForNode();
  const model = await liteRt.loadAndCompile(new Uint8Array(await readFile(join(dir, entry))), {
    accelerator: 'wasm',
  });
  try {
    const input = model.getInputDetails()[0];
    const dtype = input.dtype === 'uint8' ? 'uint8' : 'float32';
    return {
      format: 'tflite',
      entry,
      files: [entry],
      inputShape: Array.from(input.shape),
      inputDtype: dtype,
    };
  } finally {
    model.delete();
  }
}

/** The one model in a folder (or `entry`), and what its files say: format, input, output, Lambda layers. */
export async function detect(dir: string, all: string[], entry?: string): Promise<Detected> {
  if (entry !== undefined && !all.includes(entry)) throw new Error(`${dir} has no file ${entry} (--entry).`);
  const names = entry === undefined ? all : [entry];
  const pick = (test: (name: string) => boolean) => names.filter(test);
  const tflite = pick((name) => extname(name) === '.tflite');
  const h5 = pick((name) => ['.h5', '.hdf5'].includes(extname(name)));
  const onnx = pick((name) => extname(name) === '.onnx');
  const tfjs = pick((name) => name === 'model.json');
  const found = [...tflite, ...h5, ...onnx, ...tfjs];
  if (found.length !== 1) {
    throw new Error(
      found.length === 0
        ? `${dir} holds no model (.tflite, .h5, .onnx or TF.js model.json); a Keras 3 .keras file must be exported first.`
        : `${dir} holds several models (${found.join(', ')}): choose one with --entry <file>.`,
    );
  }
  const [chosen] = found;
  if (tflite.length) return detectTflite(dir, chosen);
  if (h5.length) return detectKeras(dir, chosen);
  if (tfjs.length) return detectTfjs(dir, chosen);
  return { format: 'onnx', entry: chosen, files: [chosen] };
}
