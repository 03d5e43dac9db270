import { randomBytes } from 'node:crypto';
import { access, mkdir, rename, rm } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { digestFile, type FileDigest } from '../manifest/file-digest';
import { readManifest } from '../manifest/manifest-loader';
import type { ModelFileEntry, ModelManifest } from '../manifest/model-manifest';
import { download, DownloadError, type DownloadProgress } from './download';

const GIB = 1024 * 1024 * 1024;

export interface PullOptions {
  manifestPath: string;
  /** Where the files go; defaults to the manifest's folder. */
  modelDir?: string;
  /** Download files the manifest pins with no hash, and report the sha256 to pin. */
  trustUnverified?: boolean;
  /** Give up on a server that sends nothing for this long (default 30 s). */
  idleTimeoutMs?: number;
  /** Largest file accepted when the manifest gives no size (default 2 GiB). */
  maxBytes?: number;
  onProgress?: (file: string, progress: DownloadProgress) => void;
  onFileDone?: (file: PulledFile) => void;
  fetch?: typeof fetch;
}

export interface PulledFile {
  path: string;
  url?: string;
  /** False when the file was already in place and matched the manifest. */
  downloaded: boolean;
  /** True when a sha256 or git blob id pinned it; false for a `--trust-unverified` download. */
  verified: boolean;
  digest: FileDigest;
}

export interface PullResult {
  manifest: ModelManifest;
  dir: string;
  files: PulledFile[];
}

export class PullError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PullError';
  }
}

/** A git blob id is a SHA-1 over `blob <size>\0<bytes>`: it pins both the bytes and the size, so it verifies. */
export const isPinned = (file: ModelFileEntry): boolean => Boolean(file.sha256 || file.git_blob_sha1);

/** The URL a file is downloaded from: its own `url`, else `source.url` for the entry, else beside `source.url`. */
export function fileUrl(manifest: ModelManifest, file: ModelFileEntry): string | undefined {
  if (file.url) return file.url;
  const source = manifest.source.url;
  if (!source || !/^https?:\/\//.test(source)) return undefined;
  return file.path === manifest.entry ? source : new URL(file.path, source).toString();
}

/** Why the digest does not match the manifest's pins, or undefined when it matches. */
export function digestMismatch(file: ModelFileEntry, digest: FileDigest): string | undefined {
  if (file.size !== undefined && digest.size !== file.size)
    return `${digest.size} bytes instead of ${file.size}`;
  if (file.sha256 && digest.sha256 !== file.sha256)
    return `sha256 ${digest.sha256} instead of ${file.sha256}`;
  if (file.git_blob_sha1 && digest.gitBlobSha1 !== file.git_blob_sha1) {
    return `git blob id ${digest.gitBlobSha1} instead of ${file.git_blob_sha1}`;
  }
  return undefined;
}

function insideDir(dir: string, path: string): string {
  const absolute = resolve(dir, path);
  const rel = relative(dir, absolute);
  if (rel.startsWith('..') || isAbsolute(rel))
    throw new PullError(`The model file path "${path}" leaves the model folder.`);
  return absolute;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** Files of the manifest that are not in `dir` yet. */
export async function missingModelFiles(manifest: ModelManifest, dir: string): Promise<string[]> {
  const missing: string[] = [];
  for (const file of manifest.files) if (!(await exists(insideDir(dir, file.path)))) missing.push(file.path);
  return missing;
}

/**
 * Downloads the files a manifest lists into the model folder and checks each against the manifest's size,
 * sha256 and git blob id before it gets its real name (a temporary file is renamed only once it matches,
 * so no half or wrong file is ever left where the service looks). Files already there and matching are
 * kept. A file with no hash is refused unless `trustUnverified`.
 */
export async function pullModel(options: PullOptions): Promise<PullResult> {
  const manifestPath = resolve(options.manifestPath);
  const manifest = await readManifest(manifestPath, { allowUnpinned: true });
  const dir = resolve(options.modelDir ?? dirname(manifestPath));
  const unpinned = manifest.files.filter((file) => !isPinned(file));
  if (unpinned.length > 0 && !options.trustUnverified) {
    throw new PullError(
      `Model "${manifest.name}" pins no sha256 for ${unpinned.map((file) => file.path).join(', ')}, so a download cannot be verified: add the sha256 to ${manifestPath}, or pass --trust-unverified to accept what the server sends.`,
    );
  }
  await mkdir(dir, { recursive: true });
  const files: PulledFile[] = [];
  for (const file of manifest.files) {
    const target = insideDir(dir, file.path);
    if (await exists(target)) {
      const digest = await digestFile(target);
      if (isPinned(file) && !digestMismatch(file, digest)) {
        const done: PulledFile = { path: file.path, downloaded: false, verified: true, digest };
        files.push(done);
        options.onFileDone?.(done);
        continue;
      }
    }
    const url = fileUrl(manifest, file);
    if (!url) {
      throw new PullError(
        `Model "${manifest.name}" gives no URL for ${file.path}: add "url" to that file in ${manifestPath}.`,
      );
    }
    await mkdir(dirname(target), { recursive: true });
    const temporary = join(
      dirname(target),
      `.${file.path.replace(/[/\\]/g, '_')}.${randomBytes(6).toString('hex')}.part`,
    );
    try {
      await download(url, temporary, {
        expectedSize: file.size,
        maxBytes: options.maxBytes ?? 2 * GIB,
        idleTimeoutMs: options.idleTimeoutMs ?? 30_000,
        onProgress: (progress) => options.onProgress?.(file.path, progress),
        fetch: options.fetch,
      });
      const digest = await digestFile(temporary);
      const mismatch = digestMismatch(file, digest);
      if (mismatch) {
        throw new PullError(
          `${url} is not the file the manifest pins for ${file.path} (${mismatch}); nothing was stored.`,
        );
      }
      await rename(temporary, target);
      const done: PulledFile = { path: file.path, url, downloaded: true, verified: isPinned(file), digest };
      files.push(done);
      options.onFileDone?.(done);
    } catch (error) {
      await rm(temporary, { force: true });
      if (error instanceof DownloadError)
        throw new PullError(`${error.message} Nothing was stored.`, { cause: error });
      throw error;
    }
  }
  return { manifest, dir, files };
}
