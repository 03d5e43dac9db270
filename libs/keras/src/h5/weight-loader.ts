import type * as TfCore from '@tensorflow/tfjs-core';
import type { LayersModel, LayerVariable } from '@tensorflow/tfjs-layers';
import { KerasModelError } from '../keras-model-error';
import type { H5File } from './h5-file';

export interface WeightLoadLimits {
  /** Largest total of weight values (as float32 bytes) read from the file. */
  maxWeightBytes: number;
}

interface StoredWeight {
  /** Keras variable name without the `:0` suffix, e.g. `block1a_se_reduce/kernel`. */
  name: string;
  /** Dataset path in the file. */
  path: string;
  shape: number[];
}

const stripSuffix = (name: string): string => name.replace(/:\d+$/, '');
const lastPart = (name: string): string => name.slice(name.lastIndexOf('/') + 1);
const sameShape = (a: readonly number[], b: readonly (number | null)[]): boolean =>
  a.length === b.length && a.every((dim, i) => dim === b[i]);

/**
 * Pairs each TF.js variable of a layer with the weight Keras stored for it: by name first (Keras names each
 * variable `<layer>/<weight>:0`), else, as Keras's own HDF5 loader does, by order (trainable weights then
 * the others) when the short names agree. Every pair must have the same shape.
 */
function pairWeights(
  layerName: string,
  variables: readonly LayerVariable[],
  stored: readonly StoredWeight[],
  file: string,
): Array<[LayerVariable, StoredWeight]> {
  const refuse = (why: string): never => {
    throw new KerasModelError(`The weights of layer "${layerName}" in ${file} do not fit the model: ${why}.`);
  };
  if (variables.length !== stored.length) {
    refuse(`the model expects ${variables.length} weights but the file has ${stored.length}`);
  }
  const byName = new Map(stored.map((weight) => [weight.name, weight]));
  const namesMatch =
    byName.size === stored.length && variables.every((variable) => byName.has(variable.originalName));
  const pairs: Array<[LayerVariable, StoredWeight]> = variables.map((variable, i) => {
    if (namesMatch) return [variable, byName.get(variable.originalName)!];
    const weight = stored[i];
    if (lastPart(weight.name) !== lastPart(variable.originalName)) {
      refuse(`weight ${i} is "${weight.name}" in the file but "${variable.originalName}" in the model`);
    }
    return [variable, weight];
  });
  for (const [variable, weight] of pairs) {
    if (!sameShape(weight.shape, variable.shape)) {
      refuse(
        `"${weight.name}" has shape [${weight.shape.join(', ')}] in the file but the model expects [${variable.shape.join(', ')}]`,
      );
    }
  }
  return pairs;
}

/**
 * Loads the weights Keras saved (`model_weights`, layer order from its `layer_names` attribute, each layer's
 * weights from its `weight_names` attribute, as keras/saving/legacy/hdf5_format.py reads them) into the
 * rebuilt TF.js model. Shapes are checked before any value is read.
 */
export function loadKerasWeights(
  tf: typeof TfCore,
  model: LayersModel,
  h5: H5File,
  limits: WeightLoadLimits,
): void {
  const root = h5.group('model_weights') ? 'model_weights' : '';
  const layerNames = h5.stringListAttribute(root || '/', 'layer_names');
  if (layerNames.length === 0) {
    throw new KerasModelError(
      `The Keras file ${h5.path} lists no layers in its weights (no layer_names attribute).`,
    );
  }
  const topLevel = h5.stringListAttribute(`${root}/top_level_model_weights`, 'weight_names');
  if (topLevel.length > 0) {
    throw new KerasModelError(
      `The Keras file ${h5.path} has model-level weights outside any layer, which TF.js cannot hold.`,
    );
  }
  const storedByLayer = new Map<string, StoredWeight[]>();
  for (const layerName of layerNames) {
    const group = `${root}/${layerName}`;
    if (!h5.group(group))
      throw new KerasModelError(
        `The Keras file ${h5.path} lists layer "${layerName}" but has no weights group for it.`,
      );
    const names = h5.stringListAttribute(group, 'weight_names');
    if (names.length === 0) continue;
    storedByLayer.set(
      layerName,
      names.map((name) => {
        const path = `${group}/${name}`;
        const shape = h5.datasetShape(path);
        if (!shape)
          throw new KerasModelError(
            `The Keras file ${h5.path} names weight "${name}" of layer "${layerName}" but does not hold it.`,
          );
        return { name: stripSuffix(name), path, shape };
      }),
    );
  }
  const pairs: Array<[LayerVariable, StoredWeight]> = [];
  for (const layer of model.layers) {
    const variables = layer.weights;
    const stored = storedByLayer.get(layer.name) ?? [];
    storedByLayer.delete(layer.name);
    if (variables.length === 0 && stored.length === 0) continue;
    pairs.push(...pairWeights(layer.name, variables, stored, h5.path));
  }
  const extra = [...storedByLayer.keys()];
  if (extra.length > 0) {
    throw new KerasModelError(
      `The Keras file ${h5.path} has weights for layers the model does not have: ${extra.join(', ')}.`,
    );
  }
  const totalBytes = pairs.reduce((sum, [, weight]) => sum + 4 * weight.shape.reduce((a, b) => a * b, 1), 0);
  if (totalBytes > limits.maxWeightBytes) {
    throw new KerasModelError(
      `The Keras file ${h5.path} holds ${totalBytes} bytes of weights, more than the ${limits.maxWeightBytes} this service accepts.`,
    );
  }
  for (const [variable, weight] of pairs) {
    const { data } = h5.readWeight(weight.path);
    if (data.some((value) => !Number.isFinite(value))) {
      throw new KerasModelError(`Weight "${weight.name}" in ${h5.path} contains NaN or infinite values.`);
    }
    const tensor = tf.tensor(data, weight.shape, 'float32');
    try {
      variable.write(tensor);
    } finally {
      tensor.dispose();
    }
  }
}
