import { KerasModelError } from '../keras-model-error';

/** What a manifest says one Keras Lambda layer computes, in place of its Python code (`lambda_layers`). */
export interface LambdaClip {
  op: 'clip';
  min: number;
  max: number;
}

export type LambdaLayerMap = Readonly<Record<string, LambdaClip>>;

export const LAMBDA_OPS = ['clip'] as const;

/**
 * Checks a manifest's `lambda_layers` (`{"lambda_3": {"op": "clip", "min": -4, "max": 4}}`): every entry
 * names a supported op with its arguments. Throws a KerasModelError naming the first wrong entry.
 */
export function checkLambdaLayers(value: unknown, where: string): LambdaLayerMap {
  if (value === undefined) return {};
  function refuse(why: string): never {
    throw new KerasModelError(`The manifest ${where} has lambda_layers that cannot be used: ${why}.`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) refuse('it is not an object');
  const map: Record<string, LambdaClip> = {};
  for (const [name, entry] of Object.entries(value as Record<string, unknown>)) {
    const op = entry as Partial<LambdaClip> | null;
    if (typeof op !== 'object' || op === null || op.op !== 'clip') {
      refuse(
        `"${name}" must be {"op": "clip", "min": <number>, "max": <number>} (supported ops: ${LAMBDA_OPS.join(', ')})`,
      );
    }
    const { min, max } = op;
    if (
      typeof min !== 'number' ||
      typeof max !== 'number' ||
      !Number.isFinite(min) ||
      !Number.isFinite(max) ||
      min > max
    ) {
      refuse(
        `"${name}" clips to [${String(min)}, ${String(max)}], which are not two finite numbers with min ≤ max`,
      );
    }
    map[name] = { op: 'clip', min, max };
  }
  return map;
}
