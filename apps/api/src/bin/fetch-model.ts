/**
 * Puts the configured model's file in place before the server starts: when MODEL_DIR lacks the manifest's entry
 * file, downloads it from the manifest's `source.url` (the entry file's URL), then verifies the folder against the
 * manifest (sizes and digests, the same check the server runs at load). Exit 0 when the model is in place and verified, 1 otherwise.
 * For a Kubernetes init container, the compose `model` service and the Heroku start command; never at build time,
 * so weights are never baked into an image. `node dist/apps/api/src/bin/fetch-model.js`
 */
import 'reflect-metadata';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { readManifest, resolveModel } from '@app/inference';
import { DEFAULT_MODEL_MANIFEST } from '../config/environment';

const DOWNLOAD_TIMEOUT_MS = 120_000;

export async function fetchModel(
  env: Record<string, string | undefined>,
  log: (line: string) => void,
): Promise<string> {
  const manifestPath = resolve(env.MODEL_MANIFEST || DEFAULT_MODEL_MANIFEST);
  const manifest = await readManifest(manifestPath);
  const dir = resolve(env.MODEL_DIR || dirname(manifestPath));
  const target = join(dir, manifest.entry);
  const downloaded = !existsSync(target);
  if (!downloaded) {
    log(`${target} is already there`);
  } else {
    const url = manifest.source?.url;
    if (!url) {
      throw new Error(
        `${target} is missing and ${manifestPath} has no source.url to download it from: put the model files in ${dir}.`,
      );
    }
    log(`Downloading ${url} to ${target}`);
    await mkdir(dir, { recursive: true });
    const response = await fetch(url, { signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS) });
    if (!response.ok || !response.body) throw new Error(`${url} answered ${response.status}.`);
    const partial = `${target}.part`;
    try {
      await pipeline(Readable.fromWeb(response.body), createWriteStream(partial));
      await rename(partial, target);
    } finally {
      await rm(partial, { force: true });
    }
  }
  let resolved;
  try {
    resolved = await resolveModel({ manifestPath, modelDir: dir });
  } catch (error) {
    // A download that does not match the manifest must not be mistaken for the model on the next start.
    if (downloaded) await rm(target, { force: true });
    throw error;
  }
  log(`${resolved.manifest.name}@${resolved.manifest.version} verified in ${dir}`);
  return target;
}

if (require.main === module) {
  fetchModel(process.env, (line) => process.stdout.write(`${line}\n`)).then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`fetch-model: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
