import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ModelLoadError } from '../manifest/model-load-error';

export interface ModelVersionLocation {
  name: string;
  version: string;
  manifestPath: string;
  dir: string;
}

export interface RepositoryModel {
  name: string;
  /** `<store>/<model>/`: where its rollout.json lives. */
  folder: string;
  /** Every version folder that has a manifest, oldest first. */
  versions: ModelVersionLocation[];
}

const NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** Numeric versions compare as numbers (TF Serving's `<model>/<int>/`), others as text; numbers sort first. */
export function compareVersions(a: string, b: string): number {
  const numericA = /^\d+$/.test(a);
  const numericB = /^\d+$/.test(b);
  if (numericA && numericB) {
    const [x, y] = [a, b].map((version) => version.replace(/^0+(?=\d)/, ''));
    return x.length - y.length || (x < y ? -1 : x > y ? 1 : 0);
  }
  if (numericA !== numericB) return numericA ? -1 : 1;
  return a.localeCompare(b);
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

async function hasFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/**
 * Reads a model repository laid out like TF Serving's and Triton's: `<store>/<model>/<version>/manifest.json`
 * beside the version's files. Folders without a manifest are skipped; a store with no model is an error.
 */
export async function scanModelRepository(store: string): Promise<RepositoryModel[]> {
  if (!(await isDirectory(store))) {
    throw new ModelLoadError(
      `MODEL_STORE ${store} is not a folder: point it at <store>/<model>/<version>/manifest.json.`,
    );
  }
  const models: RepositoryModel[] = [];
  for (const name of (await readdir(store)).sort()) {
    const modelDir = join(store, name);
    if (!NAME.test(name) || !(await isDirectory(modelDir))) continue;
    const versions: ModelVersionLocation[] = [];
    for (const version of await readdir(modelDir)) {
      const dir = join(modelDir, version);
      const manifestPath = join(dir, 'manifest.json');
      if ((await isDirectory(dir)) && (await hasFile(manifestPath)))
        versions.push({ name, version, manifestPath, dir });
    }
    if (versions.length > 0) {
      versions.sort((a, b) => compareVersions(a.version, b.version));
      models.push({ name, folder: modelDir, versions });
    }
  }
  if (models.length === 0) {
    throw new ModelLoadError(
      `MODEL_STORE ${store} holds no model: expected <model>/<version>/manifest.json inside it.`,
    );
  }
  return models;
}

export function latestVersion(model: RepositoryModel): ModelVersionLocation {
  return model.versions[model.versions.length - 1];
}
