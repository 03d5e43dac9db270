import type { ModelManifest } from '../manifest/model-manifest';
import type { ResolvedModel } from '../manifest/resolved-model';

/** A verified model as structured-clonable data (a Map becomes entries), sent to each worker. */
export interface PlainResolvedModel extends Omit<ResolvedModel, 'files' | 'manifest'> {
  manifest: ModelManifest;
  files: Array<[string, string]>;
}

export function toPlainModel(resolved: ResolvedModel): PlainResolvedModel {
  // The manifest is a class-transformer instance; a JSON round trip keeps exactly its data.
  const manifest = JSON.parse(JSON.stringify(resolved.manifest)) as ModelManifest;
  return { ...resolved, manifest, files: [...resolved.files.entries()] };
}

export function fromPlainModel(plain: PlainResolvedModel): ResolvedModel {
  return { ...plain, files: new Map(plain.files) };
}
