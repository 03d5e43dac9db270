/**
 * npm run model:pull [-- [name[@version] | path/to/manifest.json] [--dir <folder>] [--trust-unverified]]
 *
 * Downloads a model's files as its manifest pins them (URL, size, sha256 or git blob id), with a progress
 * line on stderr, and stores them only once they match. Without a name it pulls MODEL_MANIFEST, else the
 * default model. A name is looked up in model-artifacts/<name>/manifest.json (or <name>/<version>/).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_MODEL_MANIFEST } from '../apps/api/src/config/environment';
import { ModelLoadError, ProgressReporter, pullModel, PullError, readManifest } from '@app/inference';

const ARTIFACTS = 'model-artifacts';

async function findManifest(spec: string | undefined): Promise<string> {
  if (!spec) return resolve(process.env.MODEL_MANIFEST || DEFAULT_MODEL_MANIFEST);
  if (spec.endsWith('.json')) return resolve(spec);
  const [name, version] = spec.split('@');
  const candidates = [
    ...(version ? [join(ARTIFACTS, name, version, 'manifest.json')] : []),
    join(ARTIFACTS, name, 'manifest.json'),
  ];
  for (const candidate of candidates) {
    if (!existsSync(candidate)) continue;
    if (version && (await readManifest(candidate, { allowUnpinned: true })).version !== version) continue;
    return resolve(candidate);
  }
  throw new PullError(
    `No manifest for ${spec} in ${ARTIFACTS}/ (looked for ${candidates.join(', ')}): give the path of a manifest.json instead.`,
  );
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { dir: { type: 'string' }, 'trust-unverified': { type: 'boolean', default: false } },
  });
  if (positionals.length > 1)
    throw new PullError('Give at most one model (name[@version] or a manifest.json path).');
  const manifestPath = await findManifest(positionals[0]);
  const progress = new ProgressReporter(process.stderr);
  const result = await pullModel({
    manifestPath,
    modelDir: values.dir ?? process.env.MODEL_DIR,
    trustUnverified: values['trust-unverified'],
    onProgress: (file, state) => progress.update(file, state),
    onFileDone: () => progress.finish(),
  });
  const { manifest, dir, files } = result;
  for (const file of files) {
    const how = file.downloaded ? `downloaded from ${file.url}` : 'already there';
    process.stdout.write(`${file.path}: ${how}, ${file.digest.size} bytes, sha256 ${file.digest.sha256}\n`);
  }
  const unverified = files.filter((file) => !file.verified);
  if (unverified.length > 0) {
    process.stdout.write(
      `Not verified (--trust-unverified): check and pin ${unverified.map((file) => `"${file.path}": size ${file.digest.size}, sha256 ${file.digest.sha256}`).join('; ')} in ${manifestPath}; the service refuses unpinned files.\n`,
    );
  }
  process.stdout.write(`${manifest.name}@${manifest.version} is in ${dir}\n`);
}

main().catch((error: unknown) => {
  const expected = error instanceof PullError || error instanceof ModelLoadError;
  process.stderr.write(
    `\nmodel:pull: ${expected ? error.message : String((error as Error)?.stack ?? error)}\n`,
  );
  process.exit(1);
});
