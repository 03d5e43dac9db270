import { readFileSync } from 'node:fs';

interface KerasLayer {
  class_name: string;
  name: string;
  config: Record<string, unknown>;
  inbound_nodes: unknown[];
}

type Shape = [number, number, number];

const pair = (value: unknown): [number, number] =>
  Array.isArray(value) ? [Number(value[0]), Number(value[1])] : [Number(value), Number(value)];

function inboundNames(layer: KerasLayer): string[] {
  // Keras 2: inbound_nodes = [[[name, node, tensor, kwargs], ...]]
  const node = layer.inbound_nodes[0] as unknown[] | undefined;
  return (node ?? []).map((entry) => String((entry as unknown[])[0]));
}

function spatial(size: number, kernel: number, stride: number, padding: string): number {
  return padding === 'same' ? Math.ceil(size / stride) : Math.floor((size - kernel) / stride) + 1;
}

/**
 * Multiply-accumulates ×2 of a Keras functional model's convolutions and dense layers (what dominates a
 * MobileNet; BatchNorm folds into the convolutions, activations and adds are left out), from its model_config,
 * propagating H×W×C shapes from the input. For the share of the arithmetic peak the engine reaches.
 */
export function kerasModelFlops(modelConfig: string, input: Shape): number {
  const layers = (JSON.parse(modelConfig) as { config: { layers: KerasLayer[] } }).config.layers;
  const shapes = new Map<string, Shape>();
  let flops = 0;
  for (const layer of layers) {
    const inputs = inboundNames(layer).map((name) => shapes.get(name)!);
    const [h, w, c] = inputs[0] ?? input;
    const cfg = layer.config;
    let out: Shape = [h, w, c];
    switch (layer.class_name) {
      case 'Conv2D': {
        const [kh, kw] = pair(cfg.kernel_size);
        const [sh, sw] = pair(cfg.strides);
        const filters = Number(cfg.filters);
        out = [spatial(h, kh, sh, String(cfg.padding)), spatial(w, kw, sw, String(cfg.padding)), filters];
        flops += 2 * out[0] * out[1] * filters * kh * kw * c;
        break;
      }
      case 'DepthwiseConv2D': {
        const [kh, kw] = pair(cfg.kernel_size);
        const [sh, sw] = pair(cfg.strides);
        const multiplier = Number(cfg.depth_multiplier ?? 1);
        out = [
          spatial(h, kh, sh, String(cfg.padding)),
          spatial(w, kw, sw, String(cfg.padding)),
          c * multiplier,
        ];
        flops += 2 * out[0] * out[1] * out[2] * kh * kw;
        break;
      }
      case 'ZeroPadding2D': {
        const padding = cfg.padding as number[][];
        out = [h + padding[0][0] + padding[0][1], w + padding[1][0] + padding[1][1], c];
        break;
      }
      case 'GlobalAveragePooling2D':
        out = [1, 1, c];
        break;
      case 'Dense': {
        const units = Number(cfg.units);
        flops += 2 * h * w * c * units;
        out = [1, 1, units];
        break;
      }
    }
    shapes.set(layer.name, out);
  }
  return flops;
}

/** The model_config attribute of a Keras 2 `.h5`, read with h5wasm. */
export async function h5ModelConfig(path: string): Promise<string> {
  const h5 = await import('h5wasm/node');
  await h5.ready;
  readFileSync(path); // fail early with a clear error when the file is missing
  const file = new h5.File(path, 'r');
  try {
    const value = file.attrs['model_config'].value;
    if (typeof value !== 'string') throw new Error(`${path} has no model_config string`);
    return value;
  } finally {
    file.close();
  }
}
