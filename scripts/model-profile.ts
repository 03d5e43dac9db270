/**
 * npm run model:profile -- <folder of labelled photos> [--manifest <manifest.json>] [--model-dir <dir>]
 *                          [--labels <file,label CSV>] [--out <profile.json>]
 *
 * Runs the model over labelled photos exactly as the service would and writes its reference profile: the class mix,
 * the distributions of the top-1 confidence and of the margin to the second class, the accuracy and each class's
 * recall, and which photos they came from. Live traffic is compared with it to see drift. Labels come from a CSV
 * (`file,label`; `<folder>/labels.csv` when present) or else from file names `<label>__<n>.jpg`. The profile is
 * written next to the manifest as reference-profile.json unless --out says where; beside the manifest, the manifest's
 * `monitoring.reference` then names it and the photos it came from.
 */
import { relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Logger } from '@nestjs/common';
import { resolveModel, writeReferenceProfile } from '@app/inference';
import { DEFAULT_MODEL_MANIFEST } from '../apps/api/src/config/environment';

async function main(): Promise<void> {
  Logger.overrideLogger(['error', 'warn']);
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      manifest: { type: 'string' },
      'model-dir': { type: 'string' },
      labels: { type: 'string' },
      out: { type: 'string' },
    },
  });
  if (positionals.length !== 1)
    throw new Error('Usage: npm run model:profile -- <folder of labelled photos> [--manifest m.json]');
  const folder = resolve(positionals[0]);
  const manifestPath = resolve(values.manifest ?? process.env.MODEL_MANIFEST ?? DEFAULT_MODEL_MANIFEST);
  const modelDir = values['model-dir'] ?? process.env.MODEL_DIR;
  const resolved = await resolveModel({ manifestPath, ...(modelDir ? { modelDir: resolve(modelDir) } : {}) });
  const { profile, out, unknownLabels, manifestUpdated } = await writeReferenceProfile(resolved, {
    folder,
    ...(values.labels ? { csv: values.labels } : {}),
    ...(values.out ? { out: values.out } : {}),
    onPhoto: (done, total) => process.stderr.write(`\r${done}/${total} photos`),
  });
  process.stderr.write('\n');
  if (unknownLabels.length > 0)
    process.stderr.write(
      `Labels the model does not have (those photos count as wrong): ${unknownLabels.join(', ')}\n`,
    );
  const classes = Object.keys(profile.class_mix).length;
  process.stdout.write(
    `${resolved.manifest.name}@${resolved.manifest.version} on ${profile.photos.count} photos: accuracy ${(profile.accuracy * 100).toFixed(1)} %, median confidence ${profile.confidence.p50}, median margin ${profile.margin.p50}, ${classes} classes predicted.\nWrote ${relative(process.cwd(), out)}${manifestUpdated ? ` and its monitoring.reference in ${relative(process.cwd(), manifestPath)}` : ''}\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
