import { createRequire } from 'node:module';

export type OnnxRuntimeModule = typeof import('onnxruntime-node');

let loaded: { module?: OnnxRuntimeModule; reason?: string } | undefined;

/**
 * onnxruntime-node is an optional dependency (a native binary): when it is missing or does not load on this
 * platform, float models stay on tfjs. Returns the module, or the reason it is unavailable.
 */
export function loadOnnxRuntime(): { module?: OnnxRuntimeModule; reason?: string } {
  if (!loaded) {
    try {
      loaded = { module: createRequire(__filename)('onnxruntime-node') as OnnxRuntimeModule };
    } catch (error) {
      loaded = { reason: `onnxruntime-node did not load (${(error as Error).message.split('\n')[0]})` };
    }
  }
  return loaded;
}
