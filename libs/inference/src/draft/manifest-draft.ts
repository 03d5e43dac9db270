import { readdir, readFile } from 'node:fs/promises';
import { basename, extname, isAbsolute, join, relative, resolve } from 'node:path';
import { digestFile } from '../manifest/file-digest';
import type { ModelFormat, ModelManifest, OutputKind } from '../manifest/model-manifest';
import { loadLiteRtForNode } from '../runtimes/litert-node-loader';
import { H5File } from '../formats/keras-h5/h5-file';
import { DEFAULT_KERAS_H5_LIMITS } from '../formats/keras-h5/keras-h5-model';
import type { LambdaClip } from '../formats/keras-h5/lambda-layers';
import { findScalingEvidence } from './preprocessing-evidence';

/** What the person running model:init states because the files cannot say it. */
export interface DraftOptions {
  /** `--entry file`: the model file, when the folder holds more than one. */
  entry?: string;
  /** `--value-range a,b`: the range pixels 0..255 are mapped onto, as in training. */
  valueRange?: [number, number];
  /** `--lambda name=clip:min:max` (`*` for every Lambda layer): what each Keras Lambda layer computes. */
  lambdaLayers?: Record<string, LambdaClip>;
}

/** A Keras Lambda layer and the identifiers its marshalled Python code mentions (a hint for the person). */
interface LambdaLayer {
  name: string;
  mentions: string[];
}

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
  lambdaLayers?: LambdaLayer[];
}

type Json = { [key: string]: unknown };
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Input shape, output activation and built-in preprocessing of a Keras 2.x / TF.js layers model config. */
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

async function detect(dir: string, all: string[], entry?: string): Promise<Detected> {
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

const VALUE_RANGE_HELP =
  'pass --value-range=-1,1 (MobileNet/EfficientNet-style preprocess_input, pixel/127.5 - 1), --value-range=0,1 (pixel/255) or --value-range=0,255 (raw pixels), as the model was trained';

/**
 * The input range from evidence only: uint8 input, a Rescaling/Normalization layer inside the model, a
 * training config beside it, or the person's --value-range. Without any, it refuses: a wrong range still
 * gives tidy, wrong probabilities, so it is never guessed.
 */
async function chooseValueRange(
  dir: string,
  names: string[],
  detected: Detected,
  dtype: 'uint8' | 'float32',
  options: DraftOptions,
  check: string[],
): Promise<[number, number]> {
  if (options.valueRange) {
    check.push(`input.value_range [${options.valueRange.join(', ')}]: as given with --value-range.`);
    return options.valueRange;
  }
  if (dtype === 'uint8') return [0, 255];
  if (detected.rescalesItself) {
    check.push(
      'input.value_range [0, 255]: the model has a Rescaling/Normalization layer, so it takes raw pixels; confirm it.',
    );
    return [0, 255];
  }
  const evidence = await findScalingEvidence(dir, names);
  if (evidence) {
    check.push(`input.value_range [${evidence.valueRange.join(', ')}]: from ${evidence.source}.`);
    return evidence.valueRange;
  }
  throw new Error(
    `cannot tell the input scaling of ${detected.entry}: it takes float input, has no Rescaling layer, and no training config beside it says how pixels were scaled; ${VALUE_RANGE_HELP}.`,
  );
}

/** Every Lambda layer mapped by --lambda, or a refusal that names them all. */
function mapLambdaLayers(
  dir: string,
  lambdas: LambdaLayer[],
  options: DraftOptions,
  check: string[],
): Record<string, LambdaClip> | undefined {
  const given = options.lambdaLayers ?? {};
  const known = new Set(lambdas.map((layer) => layer.name));
  const stray = Object.keys(given).filter((name) => name !== '*' && !known.has(name));
  if (stray.length > 0)
    throw new Error(`--lambda names ${stray.join(', ')}, which are not Lambda layers of the model.`);
  if (lambdas.length === 0) return undefined;
  const mapped: Record<string, LambdaClip> = {};
  const unmapped: LambdaLayer[] = [];
  for (const layer of lambdas) {
    const op = given[layer.name] ?? given['*'];
    if (op) mapped[layer.name] = op;
    else unmapped.push(layer);
  }
  if (unmapped.length > 0) {
    const byMentions = new Map<string, string[]>();
    for (const layer of unmapped) {
      const key = layer.mentions.join(', ');
      byMentions.set(key, [...(byMentions.get(key) ?? []), layer.name]);
    }
    const listed = [...byMentions]
      .map(([mentions, layers]) =>
        mentions ? `${layers.join(', ')} (code mentioning ${mentions})` : layers.join(', '),
      )
      .join('; ');
    throw new Error(
      `${basename(dir)} has ${unmapped.length} Lambda layer(s) holding Python code, which cannot run here: ${listed}. If you know what each computes, map it: --lambda NAME=clip:MIN:MAX (or --lambda '*=clip:MIN:MAX' for all of them); otherwise export the model to ONNX, TFLite or TF.js.`,
    );
  }
  check.push(
    `lambda_layers: ${Object.keys(mapped).length} Lambda layer(s) mapped as given with --lambda (${[...new Set(Object.values(mapped).map((op) => `clip ${op.min}..${op.max}`))].join(', ')}): make sure that is what their code computes.`,
  );
  return mapped;
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
export async function draftManifest(
  modelDir: string,
  labelsPath: string,
  options: DraftOptions = {},
): Promise<ManifestDraft> {
  const dir = resolve(modelDir);
  const names = (await readdir(dir, { recursive: true }))
    .map(String)
    .filter((name) => !name.endsWith('manifest.json'));
  const detected = await detect(dir, names, options.entry);
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
  const valueRange = await chooseValueRange(dir, names, detected, dtype, options, check);
  const lambdaLayers = mapLambdaLayers(dir, detected.lambdaLayers ?? [], options, check);
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
      ...(lambdaLayers ? { lambda_layers: lambdaLayers } : {}),
      source: {},
      license: { name: 'unknown', redistributable: false },
    },
    check,
  };
}
