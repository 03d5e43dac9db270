import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type * as TfCore from '@tensorflow/tfjs-core';

export type TfjsBackendName = 'tensorflow' | 'wasm' | 'cpu';

export interface TfjsEngine {
  tf: typeof TfCore;
  backend: TfjsBackendName;
}

let selecting: Promise<TfjsEngine> | undefined;

async function tryBackend(tf: typeof TfCore, name: TfjsBackendName): Promise<boolean> {
  try {
    return (await tf.setBackend(name)) && tf.getBackend() === name;
  } catch {
    return false;
  }
}

/**
 * Picks the fastest TensorFlow.js backend this install has: the native `tensorflow` backend when the optional
 * `@tensorflow/tfjs-node` package is installed and its libtensorflow binary loads, else WASM (SIMD), else the
 * pure-JS CPU backend. `TFJS_BACKEND` forces one (used to compare engines).
 */
export function selectTfjsBackend(preferred = process.env.TFJS_BACKEND): Promise<TfjsEngine> {
  selecting ??= (async () => {
    const tf = await import('@tensorflow/tfjs-core');
    const require = createRequire(__filename);
    const order: TfjsBackendName[] = preferred
      ? [preferred as TfjsBackendName]
      : ['tensorflow', 'wasm', 'cpu'];
    for (const name of order) {
      if (name === 'tensorflow') {
        try {
          // Registers the native backend with the same tfjs-core instance when the binary is present.
          require('@tensorflow/tfjs-node');
        } catch {
          continue;
        }
      } else if (name === 'wasm') {
        const wasm = await import('@tensorflow/tfjs-backend-wasm');
        wasm.setWasmPaths(`${dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'))}/dist/`);
      } else {
        await import('@tensorflow/tfjs-backend-cpu');
      }
      if (await tryBackend(tf, name)) return { tf, backend: name };
    }
    throw new Error(`No TensorFlow.js backend could start (tried ${order.join(', ')}).`);
  })();
  return selecting;
}
