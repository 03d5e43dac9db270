import { readdir, readFile } from 'node:fs/promises';
import { basename, extname, isAbsolute, join, relative, resolve } from 'node:path';
import { digestFile } from '../manifest/file-digest';
import type { ModelFormat, ModelManifest, OutputKind } from '../manifest/model-manifest';
import { loadLiteRtForNode } from '../runtimes/litert-node-loader';
import { H5File } from '../runtimes/keras-h5/h5-file';
import { DEFAULT_KERAS_H5_LIMITS } from '../runtimes/keras-h5/keras-h5-model';

/** A manifest drafted from a model folder, and what a person must check before serving it. */
export interface ManifestDraft {
  manifest: Omit<ModelManifest, 'display_names' | 'description'> & { description: string };
  /** One sentence each: the values that were guessed. */
  check: string[];
}

interface Detected {
  format: ModelFormat;
  entry: string;
  files: string[];
  inputShape?: Array<number | null>;
  inputDtype?: 'uint8' | 'float32';
  outputKind?: OutputKind;
  rescalesItself?: boolean;
}

type Json = { [key: string]: unknown };
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Input shape, output activation and built-in preprocessing of a Keras 2.x / TF.js layers model config. */
function readKerasConfig(config: unknown): Pick<Detected, 'inputShape' | 'outputKind' | 'rescalesItself'> {
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
  return { inputShape, outputKind, rescalesItself };
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
  const h5 = await H5File.open(join(dir, entry), DEFAULT_KERAS_H5_LIMITS);
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

async function detect(dir: string, names: string[]): Promise<Detected> {
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
        : `${dir} holds several models (${found.join(', ')}): put one model per folder.`,
    );
  }
  const entry = found[0];
  if (tflite.length) return detectTflite(dir, entry);
  if (h5.length) return detectKeras(dir, entry);
  if (tfjs.length) return detectTfjs(dir, entry);
  return { format: 'onnx', entry, files: [entry] };
}

async function readLabels(path: string): Promise<string[]> {
  const text = (await readFile(path, 'utf8')).trim();
  if (text.startsWith('[')) return JSON.parse(text) as string[];
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
}

/**
 * Drafts a manifest for a model folder: detects the format, lists the files with their size and sha256,
 * reads the input size (and dtype, output activation, built-in rescaling) where the format records it, and
 * says which values are guesses. The labels file is listed when it is in the folder, else inlined.
 */
export async function draftManifest(modelDir: string, labelsPath: string): Promise<ManifestDraft> {
  const dir = resolve(modelDir);
  const names = (await readdir(dir, { recursive: true }))
    .map(String)
    .filter((name) => !name.endsWith('manifest.json'));
  const detected = await detect(dir, names);
  const check: string[] = [];
  const labelsAbsolute = resolve(labelsPath);
  const labelsRelative = relative(dir, labelsAbsolute);
  const labelsInside = !labelsRelative.startsWith('..') && !isAbsolute(labelsRelative);
  const labels = await readLabels(labelsAbsolute);
  const files = [...detected.files, ...(labelsInside ? [labelsRelative] : [])];
  const entries = [];
  for (const path of files) {
    const digest = await digestFile(join(dir, path));
    entries.push({ path, size: digest.size, sha256: digest.sha256 });
  }
  const shape = detected.inputShape;
  let height = 224;
  let width = 224;
  if (shape && shape.length === 4 && typeof shape[1] === 'number' && typeof shape[2] === 'number') {
    [height, width] = [shape[1], shape[2]];
  } else {
    check.push(`input.height/width: the model does not record its input size; 224×224 is a guess.`);
  }
  const dtype = detected.inputDtype ?? 'float32';
  let valueRange: [number, number];
  if (dtype === 'uint8') {
    valueRange = [0, 255];
  } else if (detected.rescalesItself) {
    valueRange = [0, 255];
    check.push(
      'input.value_range [0, 255]: the model has a Rescaling/Normalization layer, so it takes raw pixels; confirm it.',
    );
  } else {
    valueRange = [0, 1];
    check.push(
      'input.value_range [0, 1] is a guess: set what the model was trained on ([-1, 1] for MobileNet/EfficientNet-style preprocess_input, [0, 255] for raw pixels); a wrong range still gives tidy, wrong probabilities.',
    );
  }
  const kind = detected.outputKind ?? 'probabilities';
  if (!detected.outputKind)
    check.push('output.kind "probabilities" is a guess: use "logits" if the last layer has no softmax.');
  check.push(
    'input.channel_order RGB, input.resize bilinear/fill: match how the training images were loaded.',
  );
  check.push('source and license: say where the weights come from and whether they may be redistributed.');
  const name =
    basename(dir)
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, '-')
      .replace(/^[^a-z0-9]+/, '')
      .slice(0, 64) || 'model';
  return {
    manifest: {
      name,
      version: '1',
      description: `${detected.format} model from ${basename(dir)}`,
      format: detected.format,
      entry: detected.entry,
      files: entries,
      ...(labelsInside ? { labels_file: labelsRelative } : { labels }),
      input: {
        height,
        width,
        channels: 3,
        dtype,
        channel_order: 'RGB',
        value_range: valueRange,
        resize: { method: 'bilinear', fit: 'fill' },
      },
      output: { kind },
      source: {},
      license: { name: 'unknown', redistributable: false },
    },
    check,
  };
}
