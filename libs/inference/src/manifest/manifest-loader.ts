import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import { access, readFile } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { digestFile } from './file-digest';
import { ModelLoadError } from './model-load-error';
import { ModelManifest } from './model-manifest';
import type { ResolvedModel } from './resolved-model';
import type { ModelLocation } from './model-location';

const MAX_MANIFEST_BYTES = 1024 * 1024;

function flattenErrors(errors: ValidationError[], prefix = ''): string[] {
  return errors.flatMap((error) => {
    const path = prefix ? `${prefix}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) =>
      message.startsWith(error.property) ? `${prefix ? `${prefix}.` : ''}${message}` : `${path}: ${message}`,
    );
    return [...own, ...flattenErrors(error.children ?? [], path)];
  });
}

/** `allowUnpinned` lets `model:pull --trust-unverified` read a manifest whose files have no hash yet. */
export async function readManifest(
  manifestPath: string,
  { allowUnpinned = false } = {},
): Promise<ModelManifest> {
  let text: string;
  try {
    text = await readFile(manifestPath, 'utf8');
  } catch {
    throw new ModelLoadError(
      `The model manifest ${manifestPath} cannot be read: set MODEL_MANIFEST to an existing manifest.json.`,
    );
  }
  if (text.length > MAX_MANIFEST_BYTES) {
    throw new ModelLoadError(
      `The model manifest ${manifestPath} is larger than 1 MiB, which no manifest needs to be.`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ModelLoadError(
      `The model manifest ${manifestPath} is not valid JSON (${(error as Error).message}).`,
    );
  }
  const manifest = plainToInstance(ModelManifest, json);
  const errors = validateSync(manifest, { whitelist: true, forbidNonWhitelisted: true });
  if (errors.length > 0) {
    throw new ModelLoadError(
      `The model manifest ${manifestPath} is invalid: ${flattenErrors(errors).join('; ')}.`,
    );
  }
  checkConsistency(manifest, manifestPath, allowUnpinned);
  return manifest;
}

function checkConsistency(manifest: ModelManifest, manifestPath: string, allowUnpinned: boolean): void {
  const listed = new Set(manifest.files.map((file) => file.path));
  const fail = (why: string): never => {
    throw new ModelLoadError(`The model manifest ${manifestPath} is invalid: ${why}.`);
  };
  if (!listed.has(manifest.entry)) fail(`its entry "${manifest.entry}" is not listed in files`);
  if (!manifest.labels === !manifest.labels_file) fail('it must give exactly one of labels and labels_file');
  if (manifest.labels_file && !listed.has(manifest.labels_file)) {
    fail(`its labels_file "${manifest.labels_file}" is not listed in files`);
  }
  for (const file of manifest.files) {
    if (!allowUnpinned && !file.sha256 && !file.git_blob_sha1)
      fail(`file "${file.path}" has neither sha256 nor git_blob_sha1`);
  }
  const { dtype, value_range: range, mean, std } = manifest.input;
  if (dtype === 'uint8' && (range[0] !== 0 || range[1] !== 255 || mean || std)) {
    fail('a uint8 input takes raw pixels: value_range must be [0, 255] with no mean or std');
  }
  if (std?.some((value) => value === 0)) fail('input.std must not contain 0');
}

function insideDir(dir: string, path: string): string | undefined {
  const absolute = resolve(dir, path);
  const rel = relative(dir, absolute);
  return rel.startsWith('..') || isAbsolute(rel) ? undefined : absolute;
}

interface VerifiedFiles {
  files: Map<string, string>;
  sha256: Map<string, string>;
}

async function verifyFiles(manifest: ModelManifest, dir: string): Promise<VerifiedFiles> {
  const files = new Map<string, string>();
  const sha256 = new Map<string, string>();
  const missing: string[] = [];
  for (const file of manifest.files) {
    const absolute = insideDir(dir, file.path);
    if (!absolute) {
      throw new ModelLoadError(
        `The model file path "${file.path}" leaves the model folder, which is not allowed.`,
      );
    }
    try {
      await access(absolute);
    } catch {
      missing.push(file.path);
      continue;
    }
    files.set(file.path, absolute);
  }
  if (missing.length > 0) {
    const where = manifest.source.url ? ` (source: ${manifest.source.url})` : '';
    throw new ModelLoadError(
      `Model "${manifest.name}" is missing ${missing.join(', ')} in ${dir}: put the files there${where} or set MODEL_DIR to the folder that holds them.`,
    );
  }
  for (const file of manifest.files) {
    const absolute = files.get(file.path)!;
    const digest = await digestFile(absolute);
    if (file.size !== undefined && digest.size !== file.size) {
      throw new ModelLoadError(
        `Model file ${absolute} has ${digest.size} bytes but the manifest says ${file.size}: the download is incomplete or it is another file.`,
      );
    }
    if (file.sha256 && digest.sha256 !== file.sha256) {
      throw new ModelLoadError(
        `Model file ${absolute} has sha256 ${digest.sha256} but the manifest pins ${file.sha256}: it is not the file the manifest describes.`,
      );
    }
    if (file.git_blob_sha1 && digest.gitBlobSha1 !== file.git_blob_sha1) {
      throw new ModelLoadError(
        `Model file ${absolute} has git blob id ${digest.gitBlobSha1} but the manifest pins ${file.git_blob_sha1}: it is not the file the manifest describes.`,
      );
    }
    sha256.set(file.path, digest.sha256);
  }
  return { files, sha256 };
}

async function readLabels(manifest: ModelManifest, files: ReadonlyMap<string, string>): Promise<string[]> {
  if (manifest.labels) return manifest.labels;
  const text = await readFile(files.get(manifest.labels_file!)!, 'utf8');
  const trimmed = text.trim();
  if (trimmed.startsWith('[')) return JSON.parse(trimmed) as string[];
  return trimmed
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
}

/** Default display name: the seed's spelling (`apple_pie` → `apple pie`). */
export function defaultDisplayName(label: string): string {
  return label.replace(/_/g, ' ');
}

/** Reads the manifest, checks every file's size and hashes, and reads the labels. */
export async function resolveModel(location: ModelLocation): Promise<ResolvedModel> {
  const manifestPath = resolve(location.manifestPath);
  const manifest = await readManifest(manifestPath);
  const dir = resolve(location.modelDir ?? dirname(manifestPath));
  const { files, sha256 } = await verifyFiles(manifest, dir);
  const labels = await readLabels(manifest, files);
  if (labels.length < 2 || new Set(labels).size !== labels.length) {
    throw new ModelLoadError(
      `Model "${manifest.name}" needs at least two distinct labels, got ${labels.length}.`,
    );
  }
  const displayNames = labels.map((label) => manifest.display_names?.[label] ?? defaultDisplayName(label));
  const entryPath = files.get(manifest.entry)!;
  return {
    manifest,
    manifestPath,
    dir,
    files,
    entryPath,
    labels,
    displayNames,
    sha256: sha256.get(manifest.entry)!,
  };
}
