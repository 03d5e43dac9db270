/**
 * npm run model:init -- <model folder> <labels file> [--out <manifest.json>] [--force]
 *
 * Drafts a manifest.json for a model folder (format, files with size and sha256, input size where the model
 * records it) and prints what must be checked by hand before serving it, above all input.value_range.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Logger } from '@nestjs/common';
import { readManifest, resolveModel } from '../libs/inference/src/manifest/manifest-loader';
import { draftManifest } from '../libs/inference/src/store/manifest-draft';

async function main(): Promise<void> {
  Logger.overrideLogger(['error', 'warn']);
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { out: { type: 'string' }, force: { type: 'boolean', default: false } },
  });
  if (positionals.length !== 2) {
    throw new Error(
      'Usage: npm run model:init -- <model folder> <labels file (one label per line, or a JSON array)>',
    );
  }
  const [modelDir, labels] = positionals;
  const out = resolve(values.out ?? join(modelDir, 'manifest.json'));
  if (existsSync(out) && !values.force) throw new Error(`${out} exists: pass --force to replace it.`);
  const { manifest, check } = await draftManifest(modelDir, labels);
  writeFileSync(out, `${JSON.stringify(manifest, null, 2)}\n`);
  await readManifest(out);
  const dir = resolve(modelDir);
  const resolved = await resolveModel({ manifestPath: out, modelDir: dir });
  const modelDirEnv = dirname(out) === dir ? '' : ` MODEL_DIR=${relative(process.cwd(), dir) || '.'}`;
  process.stdout.write(
    [
      `Wrote ${out}: ${manifest.format} model "${manifest.entry}", ${resolved.labels.length} labels, input ${manifest.input.height}×${manifest.input.width} ${manifest.input.dtype}.`,
      'Check before serving:',
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
