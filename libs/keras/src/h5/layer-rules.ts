/**
 * What this loader knows about each Keras 2.x layer class it can rebuild in TF.js layers. TF.js takes a
 * Keras config but silently ignores keys it does not know (`groups`, ReLU `threshold`, pooling `keepdims`...),
 * so every key of every layer must be listed here: `honoured` keys TF.js (or our custom layer) implements,
 * `required` keys TF.js ignores whose value must be the one that makes ignoring them harmless, `inert` keys
 * that do not change inference (initializers, regularizers, dropout rates...). Anything else is refused.
 */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export interface LayerRule {
  honoured?: readonly string[];
  required?: Readonly<Record<string, (value: JsonValue | undefined) => boolean>>;
  inert?: readonly string[];
}

const isNullOrAbsent = (value: JsonValue | undefined): boolean => value === null || value === undefined;
const isFalseOrAbsent = (value: JsonValue | undefined): boolean => value === false || value === undefined;
const isZeroOrAbsent = (value: JsonValue | undefined): boolean => value === 0 || value === undefined;
const isOneOrAbsent = (value: JsonValue | undefined): boolean => value === 1 || value === undefined;
const isChannelsLast = (value: JsonValue | undefined): boolean =>
  value === 'channels_last' || value === undefined;

const WEIGHT_SETTINGS = ['initializer', 'regularizer', 'constraint'].flatMap((what) =>
  ['kernel', 'bias', 'depthwise', 'pointwise', 'beta', 'gamma', 'moving_mean', 'moving_variance'].map(
    (weight) => `${weight}_${what}`,
  ),
);
const INERT = [...WEIGHT_SETTINGS, 'activity_regularizer'];
const CONV = ['kernel_size', 'strides', 'padding', 'dilation_rate', 'activation', 'use_bias'];
const CONV_REQUIRED = { groups: isOneOrAbsent, data_format: isChannelsLast };
const POOL = { honoured: ['pool_size', 'strides', 'padding'], required: { data_format: isChannelsLast } };

/** Keras activation names (Keras 2.x `activations.serialize`) whose TF.js implementation is the same function. */
export const ACTIVATIONS: Readonly<Record<string, string>> = {
  linear: 'linear',
  relu: 'relu',
  relu6: 'relu6',
  sigmoid: 'sigmoid',
  softmax: 'softmax',
  swish: 'swish',
  silu: 'swish',
  tanh: 'tanh',
  elu: 'elu',
  selu: 'selu',
  softplus: 'softplus',
  softsign: 'softsign',
};

export const LAYER_RULES: Readonly<Record<string, LayerRule>> = {
  InputLayer: {
    honoured: ['batch_input_shape'],
    required: { sparse: isFalseOrAbsent, ragged: isFalseOrAbsent },
  },
  Conv2D: { honoured: ['filters', ...CONV], required: CONV_REQUIRED, inert: INERT },
  DepthwiseConv2D: { honoured: ['depth_multiplier', ...CONV], required: CONV_REQUIRED, inert: INERT },
  Dense: { honoured: ['units', 'activation', 'use_bias'], inert: INERT },
  BatchNormalization: {
    honoured: ['axis', 'epsilon', 'center', 'scale'],
    required: {
      renorm: isFalseOrAbsent,
      virtual_batch_size: isNullOrAbsent,
      adjustment: isNullOrAbsent,
      synchronized: isFalseOrAbsent,
    },
    inert: [...INERT, 'momentum', 'fused', 'renorm_clipping', 'renorm_momentum'],
  },
  ReLU: { honoured: ['max_value'], required: { negative_slope: isZeroOrAbsent, threshold: isZeroOrAbsent } },
  Activation: { honoured: ['activation'] },
  Softmax: { honoured: ['axis'] },
  Dropout: { inert: ['rate', 'noise_shape', 'seed'] },
  Add: {},
  Multiply: {},
  Average: {},
  Maximum: {},
  Minimum: {},
  Concatenate: { honoured: ['axis'] },
  GlobalAveragePooling2D: { honoured: ['keepdims'], required: { data_format: isChannelsLast } },
  GlobalMaxPooling2D: { honoured: ['keepdims'], required: { data_format: isChannelsLast } },
  MaxPooling2D: POOL,
  AveragePooling2D: POOL,
  ZeroPadding2D: { honoured: ['padding'], required: { data_format: isChannelsLast } },
  Reshape: { honoured: ['target_shape'] },
  Flatten: { required: { data_format: isChannelsLast } },
  Rescaling: { honoured: ['scale', 'offset'] },
  Normalization: { honoured: ['axis', 'mean', 'variance', 'invert'] },
};

/** Keys every layer config may have. */
export const COMMON_KEYS = ['name', 'trainable', 'dtype'];

/** Layer classes that hold Python code or are not Keras built-ins: never rebuildable here. */
export const CODE_LAYERS = new Set(['Lambda', 'TFOpLambda', 'SlicingOpLambda', 'KerasLayer']);

/** Containers whose `layers` are checked one by one. */
export const MODEL_CLASSES = new Set(['Functional', 'Model', 'Sequential']);
