import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join, resolve } from 'node:path';
import { scanModelRepository } from '@app/inference';
import { draftManifest } from '@app/inference';
import { ConfigurationError } from './environment';
import { KSERVE_DEFAULTS, parseServingFlags, type ServingFlags } from './serving-flags';

export interface ServingEnvironment {
  /** The environment with the flags merged in, for validateEnvironment. */
  env: Record<string, string | undefined>;
  underKServe: boolean;
  /** What was decided that an operator should read (drafted manifests, a renamed model), for the log. */
  notes: string[];
  warnings: string[];
}

const MODEL_ENV = ['MODEL_MANIFEST', 'MODEL_DIR', 'MODEL_STORE'] as const;
const MODEL_FILE = (name: string) =>
  ['.tflite', '.h5', '.hdf5', '.onnx'].includes(extname(name)) || name === 'model.json';
const LABELS_FILE = /^(labels?|classes|class_names)\.(txt|json)$/i;

/**
 * Merges KServe's flags into the environment: one set of variables, validated once by validateEnvironment.
 * Without flags the environment passes unchanged (Heroku, `npm start`: PORT 5000, no gRPC unless GRPC_PORT).
 * With them: PORT (where set, as Knative and Heroku set it) wins over --http_port, default 8080; --grpc_port and
 * GRPC_PORT must agree, default 8081; --model_dir (default /mnt/models) becomes MODEL_MANIFEST/MODEL_DIR or
 * MODEL_STORE, and must not contradict them.
 */
export async function servingEnvironment(
  argv: readonly string[],
  env: Record<string, string | undefined>,
): Promise<ServingEnvironment> {
  const { flags, underKServe } = parseServingFlags(argv);
  if (!underKServe) return { env, underKServe, notes: [], warnings: [] };
  const merged: Record<string, string | undefined> = { ...env };
  const notes: string[] = [];
  const warnings: string[] = [];
  const set = (key: string) => env[key] !== undefined && env[key] !== '';

  if (!set('PORT')) merged.PORT = String(flags.http_port ?? KSERVE_DEFAULTS.http_port);
  else if (flags.http_port !== undefined && String(flags.http_port) !== env.PORT) {
    notes.push(
      `PORT=${env.PORT} is set, so HTTP listens there rather than on --http_port=${flags.http_port}.`,
    );
  }
  if (set('GRPC_PORT') && flags.grpc_port !== undefined && String(flags.grpc_port) !== env.GRPC_PORT) {
    throw new ConfigurationError(
      `Invalid command line: --grpc_port=${flags.grpc_port} contradicts GRPC_PORT=${env.GRPC_PORT}: set one of them.`,
    );
  }
  if (!set('GRPC_PORT')) merged.GRPC_PORT = String(flags.grpc_port ?? KSERVE_DEFAULTS.grpc_port);

  const modelEnv = MODEL_ENV.filter(set);
  if (flags.model_dir !== undefined && modelEnv.length > 0) {
    throw new ConfigurationError(
      `Invalid command line: --model_dir=${flags.model_dir} and ${modelEnv.join(', ')} both say where the model is: keep one.`,
    );
  }
  if (modelEnv.length === 0) {
    Object.assign(merged, await modelFromDir(flags, notes, warnings));
  } else if (flags.model_name !== undefined) {
    warnings.push(`--model_name=${flags.model_name} is ignored: ${modelEnv.join(', ')} choose the model.`);
  }
  return { env: merged, underKServe, notes, warnings };
}

/**
 * What the folder KServe's storage-initializer filled holds: one model with its manifest, a store of models
 * (`<model>/<version>/manifest.json`), or one plain model file with a labels file (a manifest is drafted).
 */
async function modelFromDir(
  flags: ServingFlags,
  notes: string[],
  warnings: string[],
): Promise<Record<string, string>> {
  const dir = resolve(flags.model_dir ?? KSERVE_DEFAULTS.model_dir);
  const flag = `--model_dir=${flags.model_dir ?? KSERVE_DEFAULTS.model_dir}`;
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new ConfigurationError(`Invalid command line: ${flag}: ${dir} is not a folder.`);
  }
  const manifestPath = join(dir, 'manifest.json');
  if (existsSync(manifestPath)) {
    return { MODEL_MANIFEST: renamed(manifestPath, flags.model_name, notes), MODEL_DIR: dir };
  }
  const models = await scanModelRepository(dir).catch(() => []);
  if (models.length > 0) {
    const storeNames = models.map((model) => model.name);
    const result: Record<string, string> = { MODEL_STORE: dir };
    if (flags.model_name && storeNames.includes(flags.model_name)) result.DEFAULT_MODEL = flags.model_name;
    else if (flags.model_name) {
      notes.push(
        `--model_name=${flags.model_name} names no model of the store ${dir}; it serves ${storeNames.join(', ')} under their folder names.`,
      );
    }
    return result;
  }
  const names = readdirSync(dir, { recursive: true }).map(String);
  if (names.some((name) => MODEL_FILE(name.split('/').pop()!))) {
    const labels = names.find((name) => LABELS_FILE.test(name.split('/').pop()!));
    if (!labels) {
      throw new ConfigurationError(
        `Invalid command line: ${flag} holds a model file but no manifest.json and no labels file (labels.txt, one label per line, or labels.json): add one of them.`,
      );
    }
    const { manifest, check } = await draftManifest(dir, join(dir, labels));
    if (flags.model_name) manifest.name = flags.model_name;
    const drafted = join(scratchDir(), 'manifest.json');
    writeFileSync(drafted, `${JSON.stringify(manifest, null, 2)}\n`);
    warnings.push(
      `${dir} has no manifest.json: serving ${manifest.format} model ${manifest.entry} as "${manifest.name}" with a drafted manifest (${drafted}). Guessed, check: ${check.join(' ')} Put a manifest.json beside the model (npm run model:init) to decide these yourself.`,
    );
    return { MODEL_MANIFEST: drafted, MODEL_DIR: dir };
  }
  throw new ConfigurationError(
    `Invalid command line: ${flag} holds no model: put a manifest.json with its files there, a model file (.tflite, .h5, .onnx, TF.js model.json) with labels.txt, or a store <model>/<version>/manifest.json.`,
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
