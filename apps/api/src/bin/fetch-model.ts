/**
 * Puts the configured model's files in place before the server starts: downloads each file the manifest pins
 * that MODEL_DIR lacks (or holds damaged), verifying size and digest before it takes the file's name, then checks
 * the whole folder as the server does at load. Exit 0 when the model is in place and verified, 1 otherwise.
 * For a Kubernetes init container, the compose `model` service and the Heroku start command; never at build time,
 * so weights are never baked into an image. `node dist/apps/api/src/bin/fetch-model.js`
 * (`npm run model:pull` is the same download for a developer, with a progress bar.)
 */
import 'reflect-metadata';
import { dirname, resolve } from 'node:path';
import { resolveModel } from '@app/inference';
import { pullModel } from '@app/inference';
import { DEFAULT_MODEL_MANIFEST } from '../config/environment';

export async function fetchModel(
  env: Record<string, string | undefined>,
  log: (line: string) => void,
): Promise<string> {
  const manifestPath = resolve(env.MODEL_MANIFEST || DEFAULT_MODEL_MANIFEST);
  const dir = resolve(env.MODEL_DIR || dirname(manifestPath));
  const pulled = await pullModel({
    manifestPath,
    modelDir: dir,
    onFileDone: (file) =>
      log(
        file.downloaded
          ? `Downloaded ${file.url} to ${dir}/${file.path}`
          : `${dir}/${file.path} is already there`,
      ),
  });
  const resolved = await resolveModel({ manifestPath, modelDir: dir });
  log(`${resolved.manifest.name}@${resolved.manifest.version} verified in ${pulled.dir}`);
  return resolved.entryPath;
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
