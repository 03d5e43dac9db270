import { ModelFolderError, readModelFolder, type ModelFolder } from '@app/inference';
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

/** MODEL_MANIFEST/MODEL_DIR or MODEL_STORE (and DEFAULT_MODEL) for what the --model_dir folder holds. */
async function modelFromDir(
  flags: ServingFlags,
  notes: string[],
  warnings: string[],
): Promise<Record<string, string>> {
  const flag = `--model_dir=${flags.model_dir ?? KSERVE_DEFAULTS.model_dir}`;
  let folder: ModelFolder;
  try {
    folder = await readModelFolder(flags.model_dir ?? KSERVE_DEFAULTS.model_dir, flags.model_name, notes);
  } catch (error) {
    if (!(error instanceof ModelFolderError)) throw error;
    const separator = error.message.startsWith('holds') ? ' ' : ': ';
    throw new ConfigurationError(`Invalid command line: ${flag}${separator}${error.message}`);
  }
  switch (folder.kind) {
    case 'manifest':
      return { MODEL_MANIFEST: folder.manifestPath, MODEL_DIR: folder.dir };
    case 'store':
      return {
        MODEL_STORE: folder.dir,
        ...(folder.defaultModel ? { DEFAULT_MODEL: folder.defaultModel } : {}),
      };
    case 'drafted':
      warnings.push(folder.warning);
      return { MODEL_MANIFEST: folder.manifestPath, MODEL_DIR: folder.dir };
  }
}
