/** Where one model's manifest and files are. */
export interface ModelLocation {
  manifestPath: string;
  /** Folder with the files; defaults to the manifest's folder. */
  modelDir?: string;
  /** Fetch the files the manifest pins when they are missing (a first start without MODEL_DIR). */
  pullIfMissing?: boolean;
  /** In a model store: the folder names the manifest must agree with. */
  expected?: { name: string; version: string };
}

/** A request's choice of model; both parts optional (the default model, its served version). */
export interface ModelSelector {
  name?: string;
  version?: string;
}
