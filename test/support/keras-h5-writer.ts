import type * as H5Wasm from 'h5wasm';

/** One weight as Keras names it (`<layer>/<weight>:0`), with its values in row-major order. */
export interface KerasWeight {
  name: string;
  shape: number[];
  data: Float32Array | BigInt64Array;
}

export interface KerasH5Content {
  modelConfig: unknown;
  /** Top-level layers in model order; each with its weights in Keras's saving order. */
  layers: Array<{ name: string; weights: KerasWeight[] }>;
  kerasVersion?: string;
  /** Split `layer_names` into this many chunks (`layer_names0`, `layer_names1`...), as Keras does for long lists. */
  layerNameChunks?: number;
  /** `training_config` root attribute (JSON), written by `model.save` for a compiled model. */
  trainingConfig?: unknown;
  /** `save_optimizer_weights_to_hdf5_group`: `/optimizer_weights` with `weight_names` and one dataset each. */
  optimizerWeights?: KerasWeight[];
}

let h5Loading: Promise<typeof H5Wasm> | undefined;

async function h5wasm(): Promise<typeof H5Wasm> {
  h5Loading ??= import('h5wasm/node').then(async (h5) => {
    await h5.ready;
    return h5;
  });
  return h5Loading;
}

function ensureGroup(file: H5Wasm.File, path: string): void {
  let current = '';
  for (const part of path.split('/').filter(Boolean)) {
    current = `${current}/${part}`;
    if (!file.get(current)) file.create_group(current);
  }
}

/** `save_subset_weights_to_hdf5_group`: a group with `weight_names` and a dataset per weight (`/` nests). */
function writeWeightGroup(file: H5Wasm.File, group: string, weights: KerasWeight[]): void {
  ensureGroup(file, group);
  const layerGroup = file.get(group) as H5Wasm.Group;
  if (weights.length === 0) {
    // h5py stores an empty list as an empty float64 array.
    layerGroup.create_attribute('weight_names', new Float64Array(0), [0], '<d');
  } else {
    layerGroup.create_attribute(
      'weight_names',
      weights.map((weight) => weight.name),
    );
  }
  for (const weight of weights) {
    const datasetPath = `${group}/${weight.name}`;
    ensureGroup(file, datasetPath.slice(0, datasetPath.lastIndexOf('/')));
    const parent = file.get(datasetPath.slice(0, datasetPath.lastIndexOf('/'))) as H5Wasm.Group;
    parent.create_dataset({
      name: datasetPath.slice(datasetPath.lastIndexOf('/') + 1),
      data: weight.data,
      shape: weight.shape,
      dtype: weight.data instanceof BigInt64Array ? '<q' : '<f',
    });
  }
}

/**
 * Writes a file laid out as Keras 2.x `model.save('x.h5')` does (keras/saving/legacy/hdf5_format.py): root
 * attributes `keras_version`, `backend`, `model_config`; group `model_weights` with `layer_names`, one group
 * per layer with `weight_names`, and each weight dataset at `<layer>/<weight name>` (names with `/` nest).
 */
export async function writeKerasH5(path: string, content: KerasH5Content): Promise<void> {
  const h5 = await h5wasm();
  const file = new h5.File(path, 'w');
  try {
    const version = content.kerasVersion ?? '2.7.0';
    file.create_attribute('keras_version', version);
    file.create_attribute('backend', 'tensorflow');
    file.create_attribute('model_config', JSON.stringify(content.modelConfig));
    const weights = file.create_group('model_weights');
    weights.create_attribute('keras_version', version);
    weights.create_attribute('backend', 'tensorflow');
    const names = content.layers.map((layer) => layer.name);
    const chunks = content.layerNameChunks ?? 1;
    if (chunks === 1) {
      weights.create_attribute('layer_names', names);
    } else {
      const size = Math.ceil(names.length / chunks);
      for (let chunk = 0; chunk < chunks; chunk++) {
        weights.create_attribute(`layer_names${chunk}`, names.slice(chunk * size, (chunk + 1) * size));
      }
    }
    // Keras creates the layer groups sorted by name, then an (often empty) `top_level_model_weights`.
    const sorted = [...content.layers].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const layer of sorted) writeWeightGroup(file, `/model_weights/${layer.name}`, layer.weights);
    writeWeightGroup(file, '/model_weights/top_level_model_weights', []);
    if (content.trainingConfig !== undefined) {
      file.create_attribute('training_config', JSON.stringify(content.trainingConfig));
    }
    if (content.optimizerWeights) writeWeightGroup(file, '/optimizer_weights', content.optimizerWeights);
  } finally {
    file.close();
  }
}
