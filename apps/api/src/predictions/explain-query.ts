import { EXPLAIN_METHODS, type ExplainMethod, type ExplainRequest } from '../data-plane/explainer';
import { invalidField } from '@app/problem';

/** The query parameters of an explanation, as the OpenAPI document lists them. */
export const EXPLAIN_QUERY = {
  explain: `\`occlusion\`: also explain the answer (\`explanation\`): how much the class probability drops when each patch of the model's input is masked. The masked images run behind interactive requests, so an explanation takes about a second on 2 cores.`,
  explain_class: 'The class to explain, as a label or an index; the top-1 class by default.',
  explain_patch_size:
    'Side of the masked patch in model-input pixels (default: a seventh of the input, 32 at 224).',
  explain_stride: 'Distance between patches in model-input pixels (default: half the patch).',
  explain_baseline: 'Grey level 0–255 a patch is filled with (default 128).',
} as const;

function single(query: Record<string, unknown>, name: string): string | undefined {
  const value = query[name];
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') throw invalidField(name, `${name} must be given once.`);
  return value;
}

function integer(query: Record<string, unknown>, name: string): number | undefined {
  const value = single(query, name);
  if (value === undefined) return undefined;
  if (!/^\d{1,5}$/.test(value)) throw invalidField(name, `${name} must be a whole number.`);
  return Number(value);
}

/** The explanation a request asks for (`?explain=occlusion&...`), or undefined; anything malformed is a 400. */
export function parseExplainQuery(query: Record<string, unknown>): ExplainRequest | undefined {
  const method = single(query, 'explain');
  const extras = ['explain_class', 'explain_patch_size', 'explain_stride', 'explain_baseline'].filter(
    (name) => query[name] !== undefined,
  );
  if (method === undefined) {
    if (extras.length > 0) throw invalidField(extras[0], `${extras[0]} needs explain=occlusion.`);
    return undefined;
  }
  if (!(EXPLAIN_METHODS as readonly string[]).includes(method))
    throw invalidField('explain', `explain must be one of: ${EXPLAIN_METHODS.join(', ')} (got "${method}").`);
  const target = single(query, 'explain_class');
  const patchSize = integer(query, 'explain_patch_size');
  const stride = integer(query, 'explain_stride');
  const baseline = integer(query, 'explain_baseline');
  return {
    method: method as ExplainMethod,
    ...(target !== undefined ? { target } : {}),
    ...(patchSize !== undefined ? { patchSize } : {}),
    ...(stride !== undefined ? { stride } : {}),
    ...(baseline !== undefined ? { baseline } : {}),
  };
}
