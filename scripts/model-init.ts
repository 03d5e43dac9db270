/**
 * npm run model:init -- <model folder> <labels file> [--out <manifest.json>] [--force] [--entry <file>]
 *                       [--value-range <min>,<max>] [--lambda <layer|*>=clip:<min>:<max> ...]
 *                       [--profile <folder of labelled photos> [--profile-labels <file,label CSV>]]
 *
 * Drafts a manifest.json for a model folder (format, files with size and sha256, input size where the model
 * records it) and prints what must be checked by hand before serving it. The input scaling is taken from
 * evidence (uint8 input, a Rescaling layer, a training config beside the model) or from --value-range; with
 * neither it stops and asks. A Keras model with Lambda layers needs each one mapped with --lambda. With --profile it
 * also writes the model's reference profile on those photos (as npm run model:profile does) and names it in the
 * manifest.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Logger } from '@nestjs/common';
import {
  draftManifest,
  readManifest,
  resolveModel,
  writeReferenceProfile,
  type LambdaClip,
} from '@app/inference';

function parseValueRange(text: string | undefined): [number, number] | undefined {
  if (text === undefined) return undefined;
  const parts = text.split(',').map((part) => Number(part.trim()));
  if (parts.length !== 2 || !parts.every(Number.isFinite) || parts[0] >= parts[1]) {
    throw new Error(`--value-range must be two numbers min,max with min < max (e.g. -1,1), not "${text}".`);
  }
  return [parts[0], parts[1]];
}

function parseLambdas(specs: string[] | undefined): Record<string, LambdaClip> | undefined {
  if (!specs?.length) return undefined;
  const map: Record<string, LambdaClip> = {};
  for (const spec of specs) {
    const match = /^([^=]+)=clip:(-?[\d.]+(?:e-?\d+)?):(-?[\d.]+(?:e-?\d+)?)$/i.exec(spec.trim());
    const [min, max] = match ? [Number(match[2]), Number(match[3])] : [NaN, NaN];
    if (!match || !(min <= max)) {
      throw new Error(
        `--lambda must be NAME=clip:MIN:MAX (NAME may be *), e.g. lambda_3=clip:-4:4, not "${spec}".`,
      );
    }
    map[match[1].trim()] = { op: 'clip', min, max };
  }
  return map;
}

async function main(): Promise<void> {
  Logger.overrideLogger(['error', 'warn']);
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      out: { type: 'string' },
      force: { type: 'boolean', default: false },
      entry: { type: 'string' },
      'value-range': { type: 'string' },
      lambda: { type: 'string', multiple: true },
      profile: { type: 'string' },
      'profile-labels': { type: 'string' },
    },
  });
  if (positionals.length !== 2) {
    throw new Error(
      'Usage: npm run model:init -- <model folder> <labels file (one label per line, or a JSON array)>',
    );
  }
  const [modelDir, labels] = positionals;
  const out = resolve(values.out ?? join(modelDir, 'manifest.json'));
  if (existsSync(out) && !values.force) throw new Error(`${out} exists: pass --force to replace it.`);
  const { manifest, check } = await draftManifest(modelDir, labels, {
    entry: values.entry,
    valueRange: parseValueRange(values['value-range']),
    lambdaLayers: parseLambdas(values.lambda),
  });
  writeFileSync(out, `${JSON.stringify(manifest, null, 2)}\n`);
  await readManifest(out);
  const dir = resolve(modelDir);
  const resolved = await resolveModel({ manifestPath: out, modelDir: dir });
  const profiled = values.profile
    ? await writeReferenceProfile(resolved, {
        folder: values.profile,
        ...(values['profile-labels'] ? { csv: values['profile-labels'] } : {}),
      })
    : undefined;
  const modelDirEnv = dirname(out) === dir ? '' : ` MODEL_DIR=${relative(process.cwd(), dir) || '.'}`;
  process.stdout.write(
    [
      `Wrote ${out}: ${manifest.format} model "${manifest.entry}", ${resolved.labels.length} labels, input ${manifest.input.height}×${manifest.input.width} ${manifest.input.dtype}.`,
      'Check before serving:',
      ...(profiled
        ? [
            `Profiled it on ${profiled.profile.photos.count} photos (accuracy ${(profiled.profile.accuracy * 100).toFixed(1)} %): ${relative(process.cwd(), profiled.out)}, named in the manifest's monitoring.reference.`,
          ]
        : []),
      ...check.map((line) => `  - ${line}`),
      `Then serve it: MODEL_MANIFEST=${relative(process.cwd(), out)}${modelDirEnv} npm start (the service refuses a manifest that does not fit the model).`,
      '',
    ].join('\n'),
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`model:init: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
