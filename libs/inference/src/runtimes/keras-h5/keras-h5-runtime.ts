import type { ResolvedModel } from '../../manifest/resolved-model';
import { selectTfjsBackend } from '../tfjs-backend';
import { TfjsRuntime } from '../tfjs-runtime';
import { DEFAULT_KERAS_H5_LIMITS, loadKerasH5Model, type KerasH5Limits } from './keras-h5-model';

/** A Keras 2.x `.h5` model, rebuilt in TF.js layers and served by the TF.js runtime (computed in float32). */
export async function loadKerasH5Runtime(
  resolved: ResolvedModel,
  limits: KerasH5Limits = DEFAULT_KERAS_H5_LIMITS,
): Promise<TfjsRuntime> {
  const { tf, backend } = await selectTfjsBackend();
  const { model } = await loadKerasH5Model(tf, resolved.entryPath, limits);
  return TfjsRuntime.fromModel(tf, backend, model);
}
