import type { Layer } from '@tensorflow/tfjs-layers/dist/engine/topology';
import { UnsupportedLayerError } from './conversion-context';

export interface WeightArray {
  values: Float32Array;
  shape: number[];
}

/**
 * A layer's weights by their Keras name (`kernel`, `bias`, `gamma`, `moving_mean`, ...), read from whatever
 * backend holds them. Non-float weights are refused: the converter writes float32 graphs only.
 */
export function layerWeights(layer: Layer): Map<string, WeightArray> {
  const byName = new Map<string, WeightArray>();
  for (const variable of layer.weights) {
    const suffix = variable.originalName.replace(/:\d+$/, '').split('/').pop() ?? variable.originalName;
    const tensor = variable.read();
    if (tensor.dtype !== 'float32')
      throw new UnsupportedLayerError(layer, `weight ${suffix} is ${tensor.dtype}`);
    byName.set(suffix, {
      values: Float32Array.from(tensor.dataSync() as Float32Array),
      shape: [...tensor.shape],
    });
  }
  return byName;
}

export function requireWeight(layer: Layer, weights: Map<string, WeightArray>, name: string): WeightArray {
  const weight = weights.get(name);
  if (!weight) {
    throw new UnsupportedLayerError(
      layer,
      `has no "${name}" weight (has ${[...weights.keys()].join(', ') || 'none'})`,
    );
  }
  return weight;
}

/** Keras conv kernel [kh, kw, in, out] → ONNX [out, in, kh, kw]. */
export function convKernelToOnnx({ values, shape }: WeightArray): WeightArray {
  const [kh, kw, cin, cout] = shape;
  const out = new Float32Array(values.length);
  for (let y = 0; y < kh; y++) {
    for (let x = 0; x < kw; x++) {
      for (let i = 0; i < cin; i++) {
        for (let o = 0; o < cout; o++) {
          out[((o * cin + i) * kh + y) * kw + x] = values[((y * kw + x) * cin + i) * cout + o];
        }
      }
    }
  }
  return { values: out, shape: [cout, cin, kh, kw] };
}

/**
 * Keras depthwise kernel [kh, kw, in, multiplier] → ONNX grouped-conv weight [in × multiplier, 1, kh, kw]
 * (output channel `c × multiplier + j` reads input channel `c`, as in Keras).
 */
export function depthwiseKernelToOnnx({ values, shape }: WeightArray): WeightArray {
  const [kh, kw, cin, multiplier] = shape;
  const out = new Float32Array(values.length);
  for (let y = 0; y < kh; y++) {
    for (let x = 0; x < kw; x++) {
      for (let c = 0; c < cin; c++) {
        for (let j = 0; j < multiplier; j++) {
          out[((c * multiplier + j) * kh + y) * kw + x] = values[((y * kw + x) * cin + c) * multiplier + j];
        }
      }
    }
  }
  return { values: out, shape: [cin * multiplier, 1, kh, kw] };
}
