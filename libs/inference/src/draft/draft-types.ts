import type { LambdaClip } from '@app/keras';
import type { ModelFormat, ModelManifest, OutputKind } from '../manifest/model-manifest';

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
export interface LambdaLayer {
  name: string;
  mentions: string[];
}

/** A manifest drafted from a model folder, and what a person must check before serving it. */
export interface ManifestDraft {
  manifest: Omit<ModelManifest, 'display_names' | 'description'> & { description: string };
  /** One sentence each: the values that were guessed. */
  check: string[];
}

/** What a model's files say about it. */
export interface Detected {
  format: ModelFormat;
  entry: string;
  files: string[];
  inputShape?: Array<number | null>;
  inputDtype?: 'uint8' | 'float32';
  outputKind?: OutputKind;
  rescalesItself?: boolean;
  lambdaLayers?: LambdaLayer[];
}
