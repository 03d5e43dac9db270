import type { InferenceModuleOptions } from '../inference.options';
import { readManifest } from '../manifest/manifest-loader';
import type { ModelLocation } from '../manifest/model-location';
import { latestVersion, scanModelRepository, type RepositoryModel } from './model-repository';
import { readRolloutPolicy, type RolloutPolicy } from './rollout-policy';

/** One model a source offers: its versions, and where the one to serve is. */
export interface OfferedModel {
  name: string;
  versions: string[];
  /** The stable version's files: rollout.json's `stable`, else the newest version. */
  location: ModelLocation;
  /** A store's model: its folder and every version's files (rollouts choose among them). */
  store?: { folder: string; locations: Record<string, ModelLocation> };
  /** Its rollout.json, when it has one; `policyError` when that file is not a valid policy (then ignored). */
  policy?: RolloutPolicy;
  policyError?: string;
}

/**
 * Where the served models come from: one manifest (MODEL_MANIFEST/MODEL_DIR) or a model store's folders
 * (MODEL_STORE, `<store>/<model>/<version>/`). The registry asks it what to serve, and where a model's newest
 * files are when it reloads; only a store changes by itself, so only a store is worth polling.
 */
export interface ModelSource {
  readonly changes: boolean;
  /** Every model to serve now, and which one answers requests that name none. */
  discover(): Promise<{ models: OfferedModel[]; defaultName: string }>;
  /** The models now, for a poll. */
  list(): Promise<OfferedModel[]>;
  /** The model's newest files, or undefined when the source no longer has it. */
  locate(name: string): Promise<OfferedModel | undefined>;
}

export function modelSourceFor(options: InferenceModuleOptions): ModelSource {
  return options.modelStore
    ? new ModelStoreSource(options.modelStore, options.defaultModel)
    : new SingleManifestSource(options.manifestPath, options.modelDir);
}

class SingleManifestSource implements ModelSource {
  readonly changes = false;
  private offered?: OfferedModel;

  constructor(
    private readonly manifestPath: string,
    private readonly modelDir: string | undefined,
  ) {}

  async discover(): Promise<{ models: OfferedModel[]; defaultName: string }> {
    const manifest = await readManifest(this.manifestPath, { allowUnpinned: true });
    this.offered = {
      name: manifest.name,
      versions: [manifest.version],
      location: { manifestPath: this.manifestPath, modelDir: this.modelDir, pullIfMissing: !this.modelDir },
    };
    return { models: [this.offered], defaultName: manifest.name };
  }

  list(): Promise<OfferedModel[]> {
    return Promise.resolve(this.offered ? [this.offered] : []);
  }

  /** The same manifest, read again by the reload. */
  locate(name: string): Promise<OfferedModel | undefined> {
    return Promise.resolve(this.offered?.name === name ? this.offered : undefined);
  }
}

class ModelStoreSource implements ModelSource {
  readonly changes = true;

  constructor(
    private readonly store: string,
    private readonly defaultModel: string | undefined,
  ) {}

  async discover(): Promise<{ models: OfferedModel[]; defaultName: string }> {
    const models = await this.list();
    const names = models.map((model) => model.name);
    if (this.defaultModel && !names.includes(this.defaultModel)) {
      throw new Error(
        `DEFAULT_MODEL "${this.defaultModel}" is not in the model store, which holds ${names.join(', ')}.`,
      );
    }
    return { models, defaultName: this.defaultModel ?? names[0] };
  }

  async list(): Promise<OfferedModel[]> {
    return (await scanModelRepository(this.store)).map(offered);
  }

  async locate(name: string): Promise<OfferedModel | undefined> {
    return (await this.list()).find((model) => model.name === name);
  }
}

/** A store's model, served at its rollout.json's stable version, else at its latest version folder. */
function offered(model: RepositoryModel): OfferedModel {
  const locations = Object.fromEntries(
    model.versions.map((version) => [
      version.version,
      {
        manifestPath: version.manifestPath,
        modelDir: version.dir,
        expected: { name: version.name, version: version.version },
      } satisfies ModelLocation,
    ]),
  );
  let policy: RolloutPolicy | undefined;
  let policyError: string | undefined;
  try {
    policy = readRolloutPolicy(model.folder);
  } catch (error) {
    policyError = error instanceof Error ? error.message : String(error);
  }
  const stable =
    policy?.stable !== undefined && locations[policy.stable] ? policy.stable : latestVersion(model).version;
  return {
    name: model.name,
    versions: model.versions.map((version) => version.version),
    location: locations[stable],
    store: { folder: model.folder, locations },
    ...(policy ? { policy } : {}),
    ...(policyError ? { policyError } : {}),
  };
}
