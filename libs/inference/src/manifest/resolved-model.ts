import type { ModelManifest } from './model-manifest';

/** A manifest whose files were found and verified, with its labels read. */
export interface ResolvedModel {
  manifest: ModelManifest;
  manifestPath: string;
  /** Folder that holds the model files. */
  dir: string;
  /** Absolute path of each file listed in the manifest, by its manifest path. */
  files: ReadonlyMap<string, string>;
  entryPath: string;
  labels: readonly string[];
  displayNames: readonly string[];
  /** sha256 of the entry file: identifies the exact weights served. */
  sha256: string;
}
