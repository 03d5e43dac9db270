import type { InferenceModuleOptions } from '../inference.options';
import { readManifest } from '../manifest/manifest-loader';
import type { ModelLocation } from '../manifest/model-location';
import { latestVersion, scanModelRepository, type RepositoryModel } from './model-repository';

/** One model a source offers: its versions, and where the one to serve is. */
export interface OfferedModel {
  name: string;
  versions: string[];
  location: ModelLocation;
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

/** A store's model, served at its latest version folder. */
function offered(model: RepositoryModel): OfferedModel {
  const latest = latestVersion(model);
  return {
    name: model.name,
    versions: model.versions.map((version) => version.version),
    location: {
      manifestPath: latest.manifestPath,
      modelDir: latest.dir,
      expected: { name: latest.name, version: latest.version },
    },
  };
}
