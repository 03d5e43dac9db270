import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KerasH5Content, KerasWeight } from './keras-h5-writer';
import { referenceForward, type Json, type Tensor, type WeightSource } from './keras-reference';
import { SHARED_DIR } from './shared-data';

/** The real Keras 2.7 `model_config` of the Food-101 EfficientNetB0 (`mixed_float16`) the product defaults to. */
export const EFFICIENTNETB0_CONFIG_PATH = join(
  SHARED_DIR,
  'models',
  'ztm-food101-efficientnetb0-mixed-config',
  'model_config.h5style.json',
);

export function readModelConfig(path: string): Json {
  return JSON.parse(readFileSync(path, 'utf8')) as Json;
}

/**
 * Kernels ~ U(±√3·gain/√fan_in), biases and batch-norm betas ~ U(±0.1); batch-norm moving statistics are
 * those of the activations on a calibration image, so activations stay of order one through all 16 blocks
 * (without, the random network either fades to a constant or turns chaotic, where float32 rounding alone
 * moves probabilities by 1e-3). The classifier gain puts the softmax peak near 0.2-0.3 at 224×224.
 */
const CONV_GAIN = 1;
const DENSE_GAIN = 2;
const OFFSET = 0.1;

interface StoredWeight {
  layer: string;
  name: string;
  shape: number[];
  trainable: boolean;
  data: Float32Array;
}

function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/**
 * Seeded weights of believable scale, created the first time a layer asks for them (as Keras' `build` does),
 * then handed back unchanged; the Normalization layer gets ImageNet's mean and variance (what
 * `EfficientNetB0` ships) and an int64 `count`.
 */
class SeededWeights implements WeightSource {
  readonly created: StoredWeight[] = [];
  private readonly byKey = new Map<string, StoredWeight>();
  private readonly next: () => number;

  constructor(seed: number) {
    this.next = random(seed);
  }

  weight(
    layer: string,
    name: string,
    shape: number[],
    trainable: boolean,
    observed?: () => Float32Array,
  ): Float32Array {
    const key = `${layer}/${name}`;
    const known = this.byKey.get(key);
    if (known) return known.data;
    const count = shape.reduce((a, b) => a * b, 1);
    const uniform = (scale: number, offset = 0) =>
      Float32Array.from({ length: count }, () => offset + (this.next() * 2 - 1) * scale);
    let data: Float32Array;
    if ((name === 'moving_mean' || name === 'moving_variance') && observed) {
      // Statistics of what the layer receives on a calibration image (as training leaves them), jittered.
      data = observed().map((v) => v * (1 + (this.next() * 2 - 1) * 0.1));
    } else if (name === 'kernel' || name === 'depthwise_kernel') {
      const fanIn = name === 'depthwise_kernel' ? shape[0] * shape[1] : count / shape.at(-1)!;
      const gain = shape.length === 2 ? DENSE_GAIN : CONV_GAIN;
      data = uniform((Math.sqrt(3) * gain) / Math.sqrt(fanIn));
    } else if (name === 'bias' || name === 'beta' || name === 'moving_mean') data = uniform(OFFSET);
    else if (name === 'gamma') data = uniform(0.2, 1);
    else if (name === 'moving_variance') data = uniform(0.4, 1);
    else if (name === 'mean') data = Float32Array.from([0.485, 0.456, 0.406].slice(0, count));
    else if (name === 'variance')
      data = Float32Array.from([0.229 ** 2, 0.224 ** 2, 0.225 ** 2].slice(0, count));
    else if (name === 'count') data = Float32Array.from([1281167]);
    else throw new Error(`replica: no generator for weight ${key}`);
    const stored = { layer, name, shape, trainable, data };
    this.created.push(stored);
    this.byKey.set(key, stored);
    return data;
  }
}

function toKeras(weight: StoredWeight): KerasWeight {
  const name = `${weight.layer}/${weight.name}:0`;
  if (weight.name === 'count') return { name, shape: [], data: BigInt64Array.from([BigInt(weight.data[0])]) };
  return { name, shape: weight.shape, data: weight.data };
}

/** Sets the size of every InputLayer with a fixed height and width (to keep a replica fast). */
function withInputSize(config: Json, size: number): Json {
  const copy = JSON.parse(JSON.stringify(config)) as Json;
  const walk = (model: Json): void => {
    for (const layer of (model.config as Json).layers as Json[]) {
      const layerConfig = layer.config as Json;
      const shape = layerConfig.batch_input_shape as Array<number | null> | undefined;
      if (layer.class_name === 'InputLayer' && shape && shape[1] != null) {
        layerConfig.batch_input_shape = [shape[0], size, size, ...shape.slice(3)];
      }
      if (Array.isArray(layerConfig.layers)) walk(layer);
    }
  };
  walk(copy);
  return copy;
}

/** Functional configs name each layer entry; a Sequential's entries carry the name in their config only. */
const layerName = (layer: Json): string => String(layer.name ?? (layer.config as Json).name);

export interface Replica {
  /** The model_config written into the file (the real one, with only the input size changed if asked). */
  modelConfig: Json;
  content: KerasH5Content;
  weights: WeightSource;
  inputShape: number[];
}

export interface ReplicaOptions {
  seed?: number;
  inputSize?: number;
  lambdas?: Record<string, (x: number) => number>;
  /** The image batch-norm statistics are calibrated on (default: seeded random pixels). */
  calibration?: Tensor;
  /** Also write `training_config` and `optimizer_weights`, as `model.save` does for a compiled model. */
  withOptimizer?: boolean;
}

/**
 * A weight-random replica of a real Keras 2.x model: its real `model_config`, weights generated with a
 * seed, laid out exactly as `save_weights_to_hdf5_group` writes them: `layer_names` = the top-level layers,
 * each group's `weight_names` in `_legacy_weights` order (trainable weights first, then the others; for a
 * nested model, those of all its layers in its layer order), names `<layer>/<weight>:0`.
 */
export function kerasReplica(realConfig: Json, options: ReplicaOptions = {}): Replica {
  const modelConfig = options.inputSize ? withInputSize(realConfig, options.inputSize) : realConfig;
  const outer = (modelConfig.config as Json).layers as Json[];
  const shape = ((outer[0].config as Json).batch_input_shape as number[]).slice(1);
  const inputShape = shape.map((dim) => dim ?? options.inputSize ?? 224);
  const weights = new SeededWeights(options.seed ?? 1);
  // Built on a calibration image of random pixels, so batch-norm statistics fit real activations.
  let state = (options.seed ?? 1) ^ 0x5bd1e995;
  const calibration: Tensor = options.calibration ?? {
    shape: inputShape,
    data: new Float32Array(inputShape.reduce((a, b) => a * b, 1)).map(() => {
      state = (state * 1664525 + 1013904223) >>> 0;
      return (state / 2 ** 32) * 255;
    }),
  };
  referenceForward(modelConfig, calibration, weights, { lambdas: options.lambdas });

  const innerNames = (layer: Json): Set<string> =>
    new Set(((layer.config as Json).layers as Json[]).map(layerName));
  const position = new Map<string, number>();
  const index = (model: Json): void =>
    ((model.config as Json).layers as Json[]).forEach((layer) => {
      position.set(layerName(layer), position.size);
      if (Array.isArray((layer.config as Json).layers)) index(layer);
    });
  index(modelConfig);
  // Keras' order is the model's layer order, whatever order the forward pass happened to build them in.
  const created = [...weights.created].sort((a, b) => position.get(a.layer)! - position.get(b.layer)!);
  const layers = outer.map((layer) => {
    const name = String(layer.name);
    const isModel = Array.isArray((layer.config as Json).layers);
    const owned = created.filter((w) => (isModel ? innerNames(layer).has(w.layer) : w.layer === name));
    const trainable = (w: StoredWeight) => w.trainable && (layer.config as Json).trainable !== false;
    const ordered = [...owned.filter(trainable), ...owned.filter((w) => !trainable(w))];
    return { name, weights: ordered.map(toKeras) };
  });
  const content: KerasH5Content = { modelConfig, layers, kerasVersion: '2.7.0' };
  if (options.withOptimizer) {
    const trainableWeights = layers
      .flatMap((layer) => layer.weights)
      .filter((w) => w.data instanceof Float32Array);
    content.trainingConfig = {
      loss: 'sparse_categorical_crossentropy',
      optimizer_config: {
        class_name: 'LossScaleOptimizer',
        config: { inner_optimizer: { class_name: 'Adam' } },
      },
    };
    content.optimizerWeights = [
      { name: 'LossScaleOptimizer/current_loss_scale:0', shape: [], data: Float32Array.from([32768]) },
      { name: 'LossScaleOptimizer/good_steps:0', shape: [], data: BigInt64Array.from([17n]) },
      { name: 'Adam/iter:0', shape: [], data: BigInt64Array.from([2368n]) },
      ...trainableWeights.slice(0, 8).flatMap((w) =>
        ['m', 'v'].map((slot) => ({
          name: `Adam/${w.name.replace(/:0$/, '')}/${slot}:0`,
          shape: w.shape,
          data: new Float32Array(w.data.length).fill(1e-3),
        })),
      ),
    ];
  }
  return { modelConfig, content, weights, inputShape };
}
