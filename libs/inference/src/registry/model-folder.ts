import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join, resolve } from 'node:path';
import { draftManifest } from '../draft/manifest-draft';
import { scanModelRepository } from './model-repository';

/** What a model folder (KServe's `--model_dir`, filled by its storage-initializer) turns out to hold. */
export type ModelFolder =
  /** One model with its manifest (a renamed copy when the model must be served under another name). */
  | { kind: 'manifest'; manifestPath: string; dir: string }
  /** A store of models, `<model>/<version>/manifest.json`; `defaultModel` when the name given is one of them. */
  | { kind: 'store'; dir: string; defaultModel?: string }
  /** One plain model file with a labels file, served with a drafted manifest (`warning` says what was guessed). */
  | { kind: 'drafted'; manifestPath: string; dir: string; warning: string };

/** A folder that holds nothing servable; the message says what to put there. */
export class ModelFolderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelFolderError';
  }
}

const MODEL_FILE = (name: string) =>
  ['.tflite', '.h5', '.hdf5', '.onnx'].includes(extname(name)) || name === 'model.json';
const LABELS_FILE = /^(labels?|classes|class_names)\.(txt|json)$/i;

/**
 * Reads a model folder: one model with its manifest, a store of models, or one plain model file with a labels
 * file (a manifest is drafted). `modelName` is the name clients will call it by (KServe's `--model_name`); what
 * was decided that an operator should read goes to `notes`.
 */
export async function readModelFolder(
  folder: string,
  modelName: string | undefined,
  notes: string[],
): Promise<ModelFolder> {
  const dir = resolve(folder);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ModelFolderError(`${dir} is not a folder.`);
  const manifestPath = join(dir, 'manifest.json');
  if (existsSync(manifestPath)) {
    return { kind: 'manifest', manifestPath: renamed(manifestPath, modelName, notes), dir };
  }
  const models = await scanModelRepository(dir).catch(() => []);
  if (models.length > 0) {
    const storeNames = models.map((model) => model.name);
    if (modelName && storeNames.includes(modelName)) return { kind: 'store', dir, defaultModel: modelName };
    if (modelName) {
      notes.push(
        `--model_name=${modelName} names no model of the store ${dir}; it serves ${storeNames.join(', ')} under their folder names.`,
      );
    }
    return { kind: 'store', dir };
  }
  const names = readdirSync(dir, { recursive: true }).map(String);
  if (names.some((name) => MODEL_FILE(name.split('/').pop()!))) {
    const labels = names.find((name) => LABELS_FILE.test(name.split('/').pop()!));
    if (!labels) {
      throw new ModelFolderError(
        'holds a model file but no manifest.json and no labels file (labels.txt, one label per line, or labels.json): add one of them.',
      );
    }
    const { manifest, check } = await draftManifest(dir, join(dir, labels));
    if (modelName) manifest.name = modelName;
    const drafted = join(scratchDir(), 'manifest.json');
    writeFileSync(drafted, `${JSON.stringify(manifest, null, 2)}\n`);
    return {
      kind: 'drafted',
      manifestPath: drafted,
      dir,
      warning: `${dir} has no manifest.json: serving ${manifest.format} model ${manifest.entry} as "${manifest.name}" with a drafted manifest (${drafted}). Guessed, check: ${check.join(' ')} Put a manifest.json beside the model (npm run model:init) to decide these yourself.`,
    };
  }
  throw new ModelFolderError(
    'holds no model: put a manifest.json with its files there, a model file (.tflite, .h5, .onnx, TF.js model.json) with labels.txt, or a store <model>/<version>/manifest.json.',
  );
}

/**
 * KServe names the model after the InferenceService (`--model_name={{.Name}}`), and clients call it by that
 * name: a manifest with another name is served through a copy that only changes the name.
 */
function renamed(manifestPath: string, modelName: string | undefined, notes: string[]): string {
  if (!modelName) return manifestPath;
  let manifest: Record<string, unknown>;
  try {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Record<string, unknown>;
  } catch {
    return manifestPath; // The model loader reports what is wrong with it.
  }
  if (manifest.name === modelName) return manifestPath;
  const copy = join(scratchDir(), 'manifest.json');
  writeFileSync(copy, `${JSON.stringify({ ...manifest, name: modelName }, null, 2)}\n`);
  notes.push(
    `Model "${String(manifest.name)}" of ${manifestPath} is served as "${modelName}" (--model_name).`,
  );
  return copy;
}

function scratchDir(): string {
  return mkdtempSync(join(tmpdir(), 'food-vision-kserve-'));
}
