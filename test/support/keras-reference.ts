/**
 * An independent forward pass of a Keras 2.x `model_config` (batch of one, channels last), written from the
 * Keras layer definitions with plain loops: it shares no code with the loader, TF.js or onnxruntime, so a
 * model they rebuild can be checked against it. It follows Keras' own graph semantics
 * (`reconstruct_from_config`): node k of a layer is its k-th call, counted from 1 for a model built on its
 * own Input (`_should_skip_first_node`), and an InputLayer reference always means its node 0.
 *
 * Weights come from a `WeightSource`: asked for each weight as the layer's `build` creates it (name, shape,
 * trainable), in Keras' creation order, so the same pass that computes also generates a replica's weights.
 */

export type Json = { [key: string]: unknown };

export interface Tensor {
  /** Shape without the batch dimension. */
  shape: number[];
  data: Float32Array<ArrayBuffer>;
}

export interface WeightSource {
  /**
   * `observed` gives what the layer's input suggests for this weight (a batch-norm layer's per-channel mean
   * or variance of what it receives), for a source that calibrates new weights to the data.
   */
  weight(
    layer: string,
    name: string,
    shape: number[],
    trainable: boolean,
    observed?: () => Float32Array,
  ): Float32Array;
}

export interface ReferenceOptions {
  /**
   * Emulates float16 compute in these layers ('policy': those whose dtype policy is mixed_float16 or
   * float16): inputs, variables and outputs rounded to float16; sums are still accumulated in float64.
   */
  float16Layers?: ReadonlySet<string> | 'policy';
  /** What each Lambda layer computes, by layer name. */
  lambdas?: Record<string, (x: number) => number>;
}

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const ACTIVATIONS: Record<string, (x: number) => number> = {
  linear: (x) => x,
  relu: (x) => Math.max(0, x),
  relu6: (x) => Math.min(6, Math.max(0, x)),
  sigmoid,
  swish: (x) => x * sigmoid(x),
  tanh: Math.tanh,
};

function activate(t: Tensor, activation: unknown): Tensor {
  const name = typeof activation === 'string' ? activation : 'linear';
  if (name === 'softmax') return softmax(t);
  const f = ACTIVATIONS[name];
  if (!f) throw new Error(`reference: activation ${name}`);
  return { shape: t.shape, data: t.data.map(f) };
}

function softmax(t: Tensor): Tensor {
  const c = t.shape.at(-1)!;
  const out = new Float32Array(t.data.length);
  for (let base = 0; base < t.data.length; base += c) {
    let max = -Infinity;
    for (let i = 0; i < c; i++) max = Math.max(max, t.data[base + i]);
    let sum = 0;
    for (let i = 0; i < c; i++) sum += Math.exp(t.data[base + i] - max);
    for (let i = 0; i < c; i++) out[base + i] = Math.exp(t.data[base + i] - max) / sum;
  }
  return { shape: t.shape, data: out };
}

/** TensorFlow's padding for "same": total = max((ceil(n/s) - 1)·s + k_eff - n, 0), the smaller half first. */
function padding(n: number, k: number, s: number, dilation: number, mode: string): [number, number, number] {
  const effective = (k - 1) * dilation + 1;
  if (mode === 'valid') return [Math.floor((n - effective) / s) + 1, 0, 0];
  const out = Math.ceil(n / s);
  const total = Math.max((out - 1) * s + effective - n, 0);
  return [out, Math.floor(total / 2), total - Math.floor(total / 2)];
}

const pair = (value: unknown, fallback: number): [number, number] =>
  Array.isArray(value)
    ? [Number(value[0]), Number(value[1])]
    : [Number(value ?? fallback), Number(value ?? fallback)];

function conv(
  x: Tensor,
  kernel: Float32Array,
  [kh, kw]: [number, number],
  cout: number,
  config: Json,
  depthwise: boolean,
): Tensor {
  const [h, w, cin] = x.shape;
  const [sh, sw] = pair(config.strides, 1);
  const [dh, dw] = pair(config.dilation_rate, 1);
  const mode = typeof config.padding === 'string' ? config.padding : 'valid';
  const [oh, top] = padding(h, kh, sh, dh, mode);
  const [ow, left] = padding(w, kw, sw, dw, mode);
  // Accumulated in float64, rounded to float32 once: the reference should be the more exact side.
  const out = new Float64Array(oh * ow * cout);
  const multiplier = depthwise ? cout / cin : 0;
  for (let oy = 0; oy < oh; oy++) {
    for (let ox = 0; ox < ow; ox++) {
      const o = (oy * ow + ox) * cout;
      for (let ky = 0; ky < kh; ky++) {
        const iy = oy * sh + ky * dh - top;
        if (iy < 0 || iy >= h) continue;
        for (let kx = 0; kx < kw; kx++) {
          const ix = ox * sw + kx * dw - left;
          if (ix < 0 || ix >= w) continue;
          const i = (iy * w + ix) * cin;
          const k = (ky * kw + kx) * cin;
          if (depthwise) {
            for (let c = 0; c < cin; c++) {
              for (let m = 0; m < multiplier; m++) {
                out[o + c * multiplier + m] += x.data[i + c] * kernel[(k + c) * multiplier + m];
              }
            }
          } else {
            for (let c = 0; c < cin; c++) {
              const value = x.data[i + c];
              const row = (k + c) * cout;
              for (let f = 0; f < cout; f++) out[o + f] += value * kernel[row + f];
            }
          }
        }
      }
    }
  }
  return { shape: [oh, ow, cout], data: Float32Array.from(out) };
}

function addBias(t: Tensor, bias: Float32Array): Tensor {
  const c = bias.length;
  return { shape: t.shape, data: t.data.map((v, i) => v + bias[i % c]) };
}

function pool(x: Tensor, config: Json, kind: 'max' | 'avg'): Tensor {
  const [h, w, c] = x.shape;
  const [ph, pw] = pair(config.pool_size, 2);
  const [sh, sw] = config.strides == null ? [ph, pw] : pair(config.strides, 1);
  const mode = typeof config.padding === 'string' ? config.padding : 'valid';
  const [oh, top] = padding(h, ph, sh, 1, mode);
  const [ow, left] = padding(w, pw, sw, 1, mode);
  const out = new Float32Array(oh * ow * c);
  for (let oy = 0; oy < oh; oy++)
    for (let ox = 0; ox < ow; ox++)
      for (let ch = 0; ch < c; ch++) {
        let acc = kind === 'max' ? -Infinity : 0;
        let count = 0;
        for (let ky = 0; ky < ph; ky++)
          for (let kx = 0; kx < pw; kx++) {
            const iy = oy * sh + ky - top;
            const ix = ox * sw + kx - left;
            if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
            const v = x.data[(iy * w + ix) * c + ch];
            acc = kind === 'max' ? Math.max(acc, v) : acc + v;
            count++;
          }
        out[(oy * ow + ox) * c + ch] = kind === 'max' ? acc : acc / count;
      }
  return { shape: [oh, ow, c], data: out };
}

/** Elementwise a∘b with numpy broadcasting of the trailing dimensions (e.g. [h,w,c] × [1,1,c]). */
function broadcast(a: Tensor, b: Tensor, f: (x: number, y: number) => number): Tensor {
  const rank = Math.max(a.shape.length, b.shape.length);
  const pad = (s: number[]): number[] => [...new Array<number>(rank - s.length).fill(1), ...s];
  const sa = pad(a.shape);
  const sb = pad(b.shape);
  const shape = sa.map((d, i) => Math.max(d, sb[i]));
  const out = new Float32Array(size(shape));
  const index = (s: number[], coords: number[]) =>
    coords.reduce((acc, coord, i) => acc * s[i] + (s[i] === 1 ? 0 : coord), 0);
  const coords = new Array<number>(rank).fill(0);
  for (let flat = 0; flat < out.length; flat++) {
    let rest = flat;
    for (let i = rank - 1; i >= 0; i--) {
      coords[i] = rest % shape[i];
      rest = Math.floor(rest / shape[i]);
    }
    out[flat] = f(a.data[index(sa, coords)], b.data[index(sb, coords)]);
  }
  return { shape, data: out };
}

function channelStats(x: Tensor): { mean: Float32Array; variance: Float32Array } {
  const c = x.shape.at(-1)!;
  const n = x.data.length / c;
  const sum = new Float64Array(c);
  const squares = new Float64Array(c);
  x.data.forEach((v, i) => {
    sum[i % c] += v;
    squares[i % c] += v * v;
  });
  const mean = Float32Array.from(sum, (s) => s / n);
  const variance = Float32Array.from(squares, (s, i) => Math.max(s / n - mean[i] ** 2, 1e-6));
  return { mean, variance };
}

function toFloat16(value: number): number {
  const f32 = new Float32Array([value]);
  const bits = new Uint32Array(f32.buffer)[0];
  const sign = bits >>> 31 ? -1 : 1;
  const abs = Math.abs(value);
  if (!Number.isFinite(abs) || abs >= 65520) return sign * Infinity;
  if (abs < 2 ** -24 / 2) return sign * 0;
  const exponent = Math.max(Math.floor(Math.log2(abs)), -14);
  const step = 2 ** (exponent - 10);
  const rounded = Math.round(abs / step); // ties-to-even differs only on exact halves, negligible here
  return sign * rounded * step;
}

class Interpreter {
  constructor(
    private readonly weights: WeightSource,
    private readonly options: ReferenceOptions,
  ) {}

  model(entry: Json, inputs: Tensor[]): Tensor[] {
    const config = entry.config as Json;
    const layers = (config.layers as Json[]).map((layer): Json & { name: string } => ({
      ...layer,
      name: String(layer.name),
    }));
    const byName = new Map(layers.map((layer) => [layer.name, layer]));
    /** Outputs of each (layer, config node index). */
    const produced = new Map<string, Tensor[]>();
    const inputRefs = config.input_layers as Array<[string, number, number]>;
    inputRefs.forEach(([name], i) => produced.set(`${name}#0`, [inputs[i]]));
    const first = (layer: Json) =>
      ['Functional', 'Model'].includes(String(layer.class_name)) ||
      (layer.class_name === 'Sequential' &&
        isObject(((layer.config as Json).layers as Json[])[0]) &&
        ((layer.config as Json).layers as Json[])[0].class_name === 'InputLayer')
        ? 1
        : 0;
    const lookup = ([name, node, tensor]: unknown[]): Tensor | undefined => {
      const layer = byName.get(String(name));
      if (!layer) throw new Error(`reference: no layer ${String(name)}`);
      const index = layer.class_name === 'InputLayer' ? 0 : Number(node);
      return produced.get(`${String(name)}#${index}`)?.[Number(tensor)];
    };
    const pending = layers.flatMap((layer) =>
      ((layer.inbound_nodes as unknown[][][]) ?? []).map((call, k) => ({
        layer,
        call,
        node: first(layer) + k,
      })),
    );
    while (pending.length > 0) {
      const ready = pending.findIndex(({ call }) => call.every((input) => lookup(input) !== undefined));
      if (ready < 0) throw new Error('reference: the config has calls that can never run');
      const [{ layer, call, node }] = pending.splice(ready, 1);
      const args = call.map((input) => lookup(input)!);
      produced.set(`${layer.name}#${node}`, this.layer(layer, args));
    }
    return (config.output_layers as unknown[][]).map((ref) => lookup(ref)!);
  }

  private layer(layer: Json, inputs: Tensor[]): Tensor[] {
    const className = String(layer.class_name);
    if (className === 'Functional' || className === 'Model') return this.model(layer, inputs);
    if (className === 'Sequential') {
      // A Sequential's config lists its layers ({class_name, config}) without nodes: each feeds the next.
      let x = inputs[0];
      for (const inner of (layer.config as Json).layers as Json[]) {
        if (inner.class_name === 'InputLayer') continue;
        [x] = this.layer({ ...inner, name: (inner.config as Json).name }, [x]);
      }
      return [x];
    }
    const f16 = this.options.float16Layers;
    const policy = (layer.config as Json).dtype;
    const half =
      f16 === 'policy'
        ? isObject(policy) && ['mixed_float16', 'float16'].includes(String((policy.config as Json).name))
        : (f16?.has(String(layer.name)) ?? false);
    // float16 compute: inputs and variables cast to float16 (Keras keeps mixed_float16 variables in float32).
    const cast = (t: Tensor): Tensor => (half ? { shape: t.shape, data: t.data.map(toFloat16) } : t);
    const out = this.compute(className, String(layer.name), layer.config as Json, inputs.map(cast), half);
    return [half ? { shape: out.shape, data: out.data.map(toFloat16) } : out];
  }

  private compute(className: string, name: string, config: Json, inputs: Tensor[], half = false): Tensor {
    const [x] = inputs;
    const trainable = config.trainable !== false;
    const w = (weight: string, shape: number[], isTrainable = trainable, observed?: () => Float32Array) => {
      const value = this.weights.weight(name, weight, shape, isTrainable, observed);
      return half ? value.map(toFloat16) : value;
    };
    const c = x.shape.at(-1)!;
    switch (className) {
      case 'Dropout':
        return x;
      case 'Rescaling': {
        const scale = Number(config.scale);
        const offset = Number(config.offset ?? 0);
        return { shape: x.shape, data: x.data.map((v) => v * scale + offset) };
      }
      case 'Normalization': {
        const mean = w('mean', [c], false);
        const variance = w('variance', [c], false);
        w('count', [], false);
        return {
          shape: x.shape,
          data: x.data.map((v, i) => (v - mean[i % c]) / Math.max(Math.sqrt(variance[i % c]), 1e-7)),
        };
      }
      case 'ZeroPadding2D': {
        const [[t, b], [l, r]] = config.padding as number[][];
        const [h, wd] = x.shape;
        const oh = h + t + b;
        const ow = wd + l + r;
        const out = new Float32Array(oh * ow * c);
        for (let y = 0; y < h; y++)
          out.set(x.data.subarray(y * wd * c, (y + 1) * wd * c), ((y + t) * ow + l) * c);
        return { shape: [oh, ow, c], data: out };
      }
      case 'Conv2D':
      case 'DepthwiseConv2D': {
        const [kh, kw] = pair(config.kernel_size, 1);
        const depthwise = className === 'DepthwiseConv2D';
        const cout = depthwise ? c * Number(config.depth_multiplier ?? 1) : Number(config.filters);
        const kernel = depthwise
          ? w('depthwise_kernel', [kh, kw, c, cout / c])
          : w('kernel', [kh, kw, c, cout]);
        let out = conv(x, kernel, [kh, kw], cout, config, depthwise);
        if (config.use_bias !== false) out = addBias(out, w('bias', [cout]));
        return activate(out, config.activation);
      }
      case 'BatchNormalization': {
        const gamma = config.scale === false ? new Float32Array(c).fill(1) : w('gamma', [c]);
        const beta = config.center === false ? new Float32Array(c) : w('beta', [c]);
        const stats = () => channelStats(x);
        const mean = w('moving_mean', [c], false, () => stats().mean);
        const variance = w('moving_variance', [c], false, () => stats().variance);
        const eps = Number(config.epsilon ?? 1e-3);
        return {
          shape: x.shape,
          data: x.data.map(
            (v, i) => ((v - mean[i % c]) / Math.sqrt(variance[i % c] + eps)) * gamma[i % c] + beta[i % c],
          ),
        };
      }
      case 'Activation':
        return activate(x, config.activation);
      case 'Softmax':
        return softmax(x);
      case 'ReLU': {
        const max = config.max_value == null ? Infinity : Number(config.max_value);
        return { shape: x.shape, data: x.data.map((v) => Math.min(max, Math.max(0, v))) };
      }
      case 'GlobalAveragePooling2D': {
        const [h, wd] = x.shape;
        const out = new Float32Array(c);
        for (let i = 0; i < h * wd; i++) for (let ch = 0; ch < c; ch++) out[ch] += x.data[i * c + ch];
        return { shape: config.keepdims === true ? [1, 1, c] : [c], data: out.map((v) => v / (h * wd)) };
      }
      case 'MaxPooling2D':
        return pool(x, config, 'max');
      case 'AveragePooling2D':
        return pool(x, config, 'avg');
      case 'Reshape':
        return { shape: (config.target_shape as number[]).map(Number), data: x.data };
      case 'Flatten':
        return { shape: [x.data.length], data: x.data };
      case 'Multiply':
        return inputs.slice(1).reduce((acc, t) => broadcast(acc, t, (a, b) => a * b), x);
      case 'Add':
        return inputs.slice(1).reduce((acc, t) => broadcast(acc, t, (a, b) => a + b), x);
      case 'Concatenate': {
        const [h, wd] = x.shape;
        const channels = inputs.map((t) => t.shape.at(-1)!);
        const total = channels.reduce((a, b) => a + b, 0);
        const out = new Float32Array(h * wd * total);
        for (let p = 0; p < h * wd; p++) {
          let offset = 0;
          inputs.forEach((t, k) => {
            out.set(t.data.subarray(p * channels[k], (p + 1) * channels[k]), p * total + offset);
            offset += channels[k];
          });
        }
        return { shape: [...x.shape.slice(0, -1), total], data: out };
      }
      case 'Dense': {
        const units = Number(config.units);
        const kernel = w('kernel', [c, units]);
        const rows = x.data.length / c;
        const sums = new Float64Array(rows * units);
        for (let r = 0; r < rows; r++)
          for (let i = 0; i < c; i++) {
            const v = x.data[r * c + i];
            for (let u = 0; u < units; u++) sums[r * units + u] += v * kernel[i * units + u];
          }
        const out = Float32Array.from(sums);
        const biased =
          config.use_bias === false
            ? { shape: [...x.shape.slice(0, -1), units], data: out }
            : addBias({ shape: [...x.shape.slice(0, -1), units], data: out }, w('bias', [units]));
        return activate(biased, config.activation);
      }
      case 'Lambda': {
        const f = this.options.lambdas?.[name];
        if (!f) throw new Error(`reference: Lambda ${name} has no mapping`);
        return { shape: x.shape, data: x.data.map(f) };
      }
      default:
        throw new Error(`reference: layer class ${className} (${name})`);
    }
  }
}

/** Runs `modelConfig` (a Keras 2.x `{class_name, config}`) on one image `input` [h, w, c]. */
export function referenceForward(
  modelConfig: Json,
  input: Tensor,
  weights: WeightSource,
  options: ReferenceOptions = {},
): Tensor {
  return new Interpreter(weights, options).model(modelConfig, [input])[0];
}

export { toFloat16 };
