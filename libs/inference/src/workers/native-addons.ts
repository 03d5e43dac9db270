import { createRequire } from 'node:module';
import { loadOnnxRuntime } from '../runtimes/onnxruntime-loader';

/**
 * Loads the native addons the inference workers use into the main thread before any worker starts. A shared
 * library first loaded by a worker thread can be unloaded when that worker exits while other threads still run
 * its code, which crashes the process at random (sharp documents this for glibc Linux; onnxruntime-node and
 * other N-API addons show the same). Loaded here first, they stay in memory until the process ends.
 */
export function pinNativeAddons(): void {
  createRequire(__filename)('sharp');
  // Optional: when it does not load, float models run on tfjs and there is nothing to pin.
  loadOnnxRuntime();
}
