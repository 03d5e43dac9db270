import type * as TfCore from '@tensorflow/tfjs-core';
import type * as TfLayers from '@tensorflow/tfjs-layers';
import { CUSTOM_CLASS } from './keras-config';

type Shape = Array<number | null>;
type Kwargs = Record<string, unknown>;

/** Keras `backend.epsilon()`, the floor Keras puts under the standard deviation in Normalization. */
const KERAS_EPSILON = 1e-7;

let registered = false;

/**
 * Registers the layers TF.js lacks, under names of our own so that TF.js's own classes stay untouched.
 * Defined inside a function because TF.js is loaded only when a Keras model is.
 */
export function registerKerasCustomLayers(tf: typeof TfCore, tfl: typeof TfLayers): void {
  if (registered) return;
  registered = true;

  interface NormalizationArgs {
    axis?: number | number[] | null;
    mean?: number | number[] | null;
    variance?: number | number[] | null;
    invert?: boolean;
    name?: string;
    trainable?: boolean;
    dtype?: TfCore.DataType;
  }

  /**
   * Keras 2.x `Normalization`: `(x - mean) / max(sqrt(variance), 1e-7)` (or its inverse), with mean and
   * variance from the config or, when adapted, from the weights `mean`, `variance` and `count`.
   */
  class KerasNormalization extends tfl.layers.Layer {
    static readonly className = CUSTOM_CLASS.normalization;
    private readonly axes: number[];
    private broadcastShape: number[] = [];
    private meanWeight?: TfLayers.LayerVariable;
    private varianceWeight?: TfLayers.LayerVariable;

    constructor(private readonly args: NormalizationArgs) {
      super(args);
      this.axes = args.axis == null ? [] : Array.isArray(args.axis) ? args.axis : [args.axis];
    }

    override build(inputShape: Shape | Shape[]): void {
      const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
      const rank = shape.length;
      const keep = this.axes.map((axis) => (axis < 0 ? axis + rank : axis)).sort((a, b) => a - b);
      if (keep.some((axis) => axis < 0 || axis >= rank || shape[axis] == null)) {
        throw new Error(
          `Normalization axes ${JSON.stringify(this.axes)} do not fit input shape ${JSON.stringify(shape)}.`,
        );
      }
      this.broadcastShape = shape.map((dim, axis) => (keep.includes(axis) ? (dim as number) : 1));
      const statsShape = keep.map((axis) => shape[axis] as number);
      if (this.args.mean == null) {
        this.meanWeight = this.addWeight(
          'mean',
          statsShape,
          'float32',
          tfl.initializers.zeros(),
          undefined,
          false,
        );
        this.varianceWeight = this.addWeight(
          'variance',
          statsShape,
          'float32',
          tfl.initializers.ones(),
          undefined,
          false,
        );
        this.addWeight('count', [], 'float32', tfl.initializers.zeros(), undefined, false);
      }
      this.built = true;
    }

    private statistic(
      weight: TfLayers.LayerVariable | undefined,
      fixed: number | number[] | null | undefined,
    ): TfCore.Tensor {
      if (weight) return tf.reshape(weight.read(), this.broadcastShape);
      const size = this.broadcastShape.reduce((a, b) => a * b, 1);
      const values = Array.isArray(fixed) ? fixed : new Array<number>(size).fill(fixed as number);
      return tf.reshape(tf.tensor(values, undefined, 'float32'), this.broadcastShape);
    }

    override call(inputs: TfCore.Tensor | TfCore.Tensor[], _kwargs: Kwargs): TfCore.Tensor {
      return tf.tidy(() => {
        const x = tf.cast(Array.isArray(inputs) ? inputs[0] : inputs, 'float32');
        const mean = this.statistic(this.meanWeight, this.args.mean);
        const std = tf.maximum(
          tf.sqrt(this.statistic(this.varianceWeight, this.args.variance)),
          KERAS_EPSILON,
        );
        return this.args.invert ? tf.add(mean, tf.mul(x, std)) : tf.div(tf.sub(x, mean), std);
      });
    }

    override getConfig(): TfCore.serialization.ConfigDict {
      const { axis, mean, variance, invert } = this.args;
      return {
        ...super.getConfig(),
        axis: axis ?? null,
        mean: mean ?? null,
        variance: variance ?? null,
        invert: invert ?? false,
      };
    }
  }

  interface GlobalPoolingArgs {
    mode: 'avg' | 'max';
    name?: string;
    trainable?: boolean;
    dtype?: TfCore.DataType;
  }

  /** GlobalAveragePooling2D / GlobalMaxPooling2D with `keepdims=True` (TF.js ignores keepdims). */
  class KerasGlobalPooling2D extends tfl.layers.Layer {
    static readonly className = CUSTOM_CLASS.globalPooling;

    constructor(private readonly args: GlobalPoolingArgs) {
      super(args);
      if (args.mode !== 'avg' && args.mode !== 'max')
        throw new Error(`Unknown global pooling mode ${String(args.mode)}.`);
    }

    override computeOutputShape(inputShape: Shape | Shape[]): Shape {
      const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
      return [shape[0], 1, 1, shape[3]];
    }

    override call(inputs: TfCore.Tensor | TfCore.Tensor[], _kwargs: Kwargs): TfCore.Tensor {
      return tf.tidy(() => {
        const x = Array.isArray(inputs) ? inputs[0] : inputs;
        return this.args.mode === 'avg' ? tf.mean(x, [1, 2], true) : tf.max(x, [1, 2], true);
      });
    }

    override getConfig(): TfCore.serialization.ConfigDict {
      return { ...super.getConfig(), mode: this.args.mode };
    }
  }

  interface ClipArgs {
    min: number;
    max: number;
    name?: string;
    trainable?: boolean;
    dtype?: TfCore.DataType;
  }

  /** A Lambda layer the manifest maps to `clip(x, min, max)` (`tf.clip_by_value`). */
  class KerasClip extends tfl.layers.Layer {
    static readonly className = CUSTOM_CLASS.clip;

    constructor(private readonly args: ClipArgs) {
      super(args);
    }

    override call(inputs: TfCore.Tensor | TfCore.Tensor[], _kwargs: Kwargs): TfCore.Tensor {
      return tf.tidy(() =>
        tf.clipByValue(Array.isArray(inputs) ? inputs[0] : inputs, this.args.min, this.args.max),
      );
    }

    override getConfig(): TfCore.serialization.ConfigDict {
      return { ...super.getConfig(), min: this.args.min, max: this.args.max };
    }
  }

  tf.serialization.registerClass(KerasClip);
  tf.serialization.registerClass(KerasNormalization);
  tf.serialization.registerClass(KerasGlobalPooling2D);
}
