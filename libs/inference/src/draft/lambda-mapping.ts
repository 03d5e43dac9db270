import { basename } from 'node:path';
import type { LambdaClip } from '@app/keras';
import type { DraftOptions, LambdaLayer } from './draft-types';

/** Every Lambda layer mapped by --lambda, or a refusal that names them all. */
export function mapLambdaLayers(
  dir: string,
  lambdas: LambdaLayer[],
  options: DraftOptions,
  check: string[],
): Record<string, LambdaClip> | undefined {
  const given = options.lambdaLayers ?? {};
  const known = new Set(lambdas.map((layer) => layer.name));
  const stray = Object.keys(given).filter((name) => name !== '*' && !known.has(name));
  if (stray.length > 0)
    throw new Error(`--lambda names ${stray.join(', ')}, which are not Lambda layers of the model.`);
  if (lambdas.length === 0) return undefined;
  const mapped: Record<string, LambdaClip> = {};
  const unmapped: LambdaLayer[] = [];
  for (const layer of lambdas) {
    const op = given[layer.name] ?? given['*'];
    if (op) mapped[layer.name] = op;
    else unmapped.push(layer);
  }
  if (unmapped.length > 0) {
    const byMentions = new Map<string, string[]>();
    for (const layer of unmapped) {
      const key = layer.mentions.join(', ');
      byMentions.set(key, [...(byMentions.get(key) ?? []), layer.name]);
    }
    const listed = [...byMentions]
      .map(([mentions, layers]) =>
        mentions ? `${layers.join(', ')} (code mentioning ${mentions})` : layers.join(', '),
      )
      .join('; ');
    throw new Error(
      `${basename(dir)} has ${unmapped.length} Lambda layer(s) holding Python code, which cannot run here: ${listed}. If you know what each computes, map it: --lambda NAME=clip:MIN:MAX (or --lambda '*=clip:MIN:MAX' for all of them); otherwise export the model to ONNX, TFLite or TF.js.`,
    );
  }
  check.push(
    `lambda_layers: ${Object.keys(mapped).length} Lambda layer(s) mapped as given with --lambda (${[...new Set(Object.values(mapped).map((op) => `clip ${op.min}..${op.max}`))].join(', ')}): make sure that is what their code computes.`,
  );
  return mapped;
}
