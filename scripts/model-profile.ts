/**
 * npm run model:profile -- <folder of labelled photos> [--manifest <manifest.json>] [--model-dir <dir>]
 *                          [--labels <file,label CSV>] [--out <profile.json>]
 *
 * Runs the model over labelled photos exactly as the service would and writes its reference profile: the class mix,
 * the distributions of the top-1 confidence and of the margin to the second class, the accuracy and each class's
 * recall, and which photos they came from. Live traffic is compared with it to see drift. Labels come from a CSV
 * (`file,label`; `<folder>/labels.csv` when present) or else from file names `<label>__<n>.jpg`. The profile is
 * written next to the manifest as reference-profile.json unless --out says where.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Logger } from '@nestjs/common';
import { classifyLabelledPhotos, referenceProfile, resolveModel } from '@app/inference';
import { DEFAULT_MODEL_MANIFEST } from '../apps/api/src/config/environment';

const IMAGE = /\.(jpe?g|png|webp|gif|bmp)$/i;

/** `file,label` rows (a header line is skipped); quoted fields are not needed for file names and labels. */
function csvLabels(path: string): Map<string, string> {
  const rows = readFileSync(path, 'utf8').trim().split(/\r?\n/);
  const labels = new Map<string, string>();
  for (const [index, row] of rows.entries()) {
    const [file, label] = row.split(',').map((field) => field.trim());
    if (index === 0 && file === 'file' && label === 'label') continue;
    if (!file || !label) throw new Error(`${path}, line ${index + 1}: expected file,label, got "${row}".`);
    labels.set(file, label);
  }
  return labels;
}

function labelledPhotos(folder: string, csv: string | undefined) {
  const files = readdirSync(folder)
    .filter((file) => IMAGE.test(file))
    .sort();
  if (files.length === 0) throw new Error(`${folder} holds no photos (.jpg, .png, .webp, .gif, .bmp).`);
  const table = csv !== undefined ? csvLabels(csv) : undefined;
  return files.map((file) => {
    const label = table ? table.get(file) : file.includes('__') ? file.split('__')[0] : undefined;
    if (!label) {
      throw new Error(
        table
          ? `${file} has no row in ${csv}: add "${file},<label>".`
          : `${file} does not say its label: name it <label>__<n>.jpg, or give --labels file.csv.`,
      );
    }
    return { file, path: join(folder, file), label };
  });
}

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
  const csv =
    values.labels ?? (existsSync(join(folder, 'labels.csv')) ? join(folder, 'labels.csv') : undefined);
  const photos = labelledPhotos(folder, csv);
  const resolved = await resolveModel({ manifestPath, ...(modelDir ? { modelDir: resolve(modelDir) } : {}) });
  const unknown = [...new Set(photos.map((photo) => photo.label))].filter(
    (label) => !resolved.labels.includes(label),
  );
  if (unknown.length > 0)
    process.stderr.write(
      `Labels the model does not have (those photos count as wrong): ${unknown.join(', ')}\n`,
    );
  const results = await classifyLabelledPhotos(resolved, photos, (done, total) =>
    process.stderr.write(`\r${done}/${total} photos`),
  );
  process.stderr.write('\n');
  const digest = createHash('sha256')
    .update(
      photos
        .map(
          (photo) => `${photo.file} ${createHash('sha256').update(readFileSync(photo.path)).digest('hex')}`,
        )
        .join('\n'),
    )
    .digest('hex');
  const profile = referenceProfile(results, resolved.labels, {
    model: { name: resolved.manifest.name, version: resolved.manifest.version, sha256: resolved.sha256 },
    photos: {
      folder: relative(process.cwd(), folder) || '.',
      count: photos.length,
      labels_from: csv ? basename(csv) : 'file names',
      digest,
    },
  });
  const out = resolve(values.out ?? join(dirname(manifestPath), 'reference-profile.json'));
  writeFileSync(out, `${JSON.stringify(profile, null, 2)}\n`);
  const classes = Object.keys(profile.class_mix).length;
  process.stdout.write(
    `${resolved.manifest.name}@${resolved.manifest.version} on ${photos.length} photos: accuracy ${(profile.accuracy * 100).toFixed(1)} %, median confidence ${profile.confidence.p50}, median margin ${profile.margin.p50}, ${classes} classes predicted.\nWrote ${relative(process.cwd(), out)}\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
