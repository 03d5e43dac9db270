import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import type { ResolvedModel } from '../manifest/resolved-model';
import { labelledPhotos, photosDigest } from './labelled-photos';
import { classifyLabelledPhotos } from './profile-model';
import { referenceProfile, type ReferenceProfile } from './reference-profile';

/** The file a profile is written to beside its manifest, and looked for when the manifest names none. */
export const REFERENCE_PROFILE_FILE = 'reference-profile.json';

export interface ProfileRun {
  /** The folder of labelled photos. */
  folder: string;
  /** `file,label` CSV; `<folder>/labels.csv` when present, else the file names. */
  csv?: string;
  /** Where to write; beside the manifest by default. */
  out?: string;
  onPhoto?: (done: number, total: number) => void;
}

export interface ProfileWritten {
  profile: ReferenceProfile;
  out: string;
  /** Labels of photos the model does not have (those photos count as wrong). */
  unknownLabels: string[];
  /** Whether the manifest now names the profile (it does when the profile is beside it). */
  manifestUpdated: boolean;
}

/**
 * Runs the model over labelled photos exactly as the service would, writes its reference profile, and, when the
 * profile sits beside the manifest, records in the manifest's `monitoring.reference` which photos it came from.
 */
export async function writeReferenceProfile(
  resolved: ResolvedModel,
  run: ProfileRun,
): Promise<ProfileWritten> {
  const folder = resolve(run.folder);
  const csv = run.csv ?? (existsSync(join(folder, 'labels.csv')) ? join(folder, 'labels.csv') : undefined);
  const photos = labelledPhotos(folder, csv);
  const unknownLabels = [...new Set(photos.map((photo) => photo.label))].filter(
    (label) => !resolved.labels.includes(label),
  );
  const results = await classifyLabelledPhotos(resolved, photos, run.onPhoto);
  const digest = photosDigest(photos);
  const about = {
    folder: relative(process.cwd(), folder) || '.',
    count: photos.length,
    labels_from: csv ? basename(csv) : 'file names',
    digest,
  };
  const profile = referenceProfile(results, resolved.labels, {
    model: { name: resolved.manifest.name, version: resolved.manifest.version, sha256: resolved.sha256 },
    photos: about,
  });
  const manifestDir = dirname(resolved.manifestPath);
  const out = resolve(run.out ?? join(manifestDir, REFERENCE_PROFILE_FILE));
  writeFileSync(out, `${JSON.stringify(profile, null, 2)}\n`);
  const manifestUpdated = dirname(out) === manifestDir;
  if (manifestUpdated) {
    const manifest = JSON.parse(readFileSync(resolved.manifestPath, 'utf8')) as Record<string, unknown>;
    const monitoring = (manifest.monitoring ?? {}) as Record<string, unknown>;
    manifest.monitoring = {
      ...monitoring,
      reference: { file: basename(out), photos: about.folder, count: about.count, digest },
    };
    writeFileSync(resolved.manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  }
  return { profile, out, unknownLabels, manifestUpdated };
}
