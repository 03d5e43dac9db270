import { dirname, resolve } from 'node:path';
import { readManifest } from '../manifest/manifest-loader';
import { ModelLoadError } from '../manifest/model-load-error';
import { fileUrl, isPinned, missingModelFiles, pullModel } from './model-puller';

interface Log {
  log(message: string): void;
}

/**
 * On a start without MODEL_DIR, fetches the files the manifest pins into the manifest's folder when they are
 * missing (once, giving up on a network that sends nothing for 10 s). Never downloads an unpinned file. On
 * failure throws one sentence that says what to set, which becomes the readiness reason.
 */
export async function pullMissingModel(
  manifestPath: string,
  logger: Log,
  fetchImpl?: typeof fetch,
): Promise<void> {
  const manifest = await readManifest(manifestPath, { allowUnpinned: true });
  const dir = resolve(dirname(manifestPath));
  const missing = await missingModelFiles(manifest, dir);
  if (missing.length === 0) return;
  const files = manifest.files.filter((file) => missing.includes(file.path));
  const advice = `run "npm run model:pull" where the network allows, or set MODEL_DIR to a folder that holds ${missing.join(', ')}`;
  if (!files.every((file) => isPinned(file) && fileUrl(manifest, file))) {
    throw new ModelLoadError(
      `Model "${manifest.name}" is missing ${missing.join(', ')} in ${dir} and its manifest pins no URL and hash to fetch them: ${advice}.`,
    );
  }
  logger.log(
    `Model "${manifest.name}" is missing ${missing.join(', ')} in ${dir}: downloading it as its manifest pins it`,
  );
  try {
    const result = await pullModel({ manifestPath, modelDir: dir, idleTimeoutMs: 10_000, fetch: fetchImpl });
    const bytes = result.files.reduce((sum, file) => sum + (file.downloaded ? file.digest.size : 0), 0);
    logger.log(`Model "${manifest.name}" downloaded and verified (${bytes} bytes) into ${dir}`);
  } catch (error) {
    throw new ModelLoadError(
      `Model "${manifest.name}" is not in ${dir} and could not be downloaded (${(error as Error).message.replace(/\.$/, '')}): ${advice}.`,
      { cause: error },
    );
  }
}
