import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const IMAGE = /\.(jpe?g|png|webp|gif|bmp)$/i;

export interface LabelledPhoto {
  file: string;
  path: string;
  label: string;
}

/** `file,label` rows (a header line is skipped); quoted fields are not needed for file names and labels. */
export function csvLabels(path: string): Map<string, string> {
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

/** The photos of `folder`, sorted, each with its label: from the CSV when given, else from `<label>__<n>.jpg`. */
export function labelledPhotos(folder: string, csv: string | undefined): LabelledPhoto[] {
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

/** sha256 over the sorted `file sha256` lines: which photos exactly. */
export function photosDigest(photos: readonly LabelledPhoto[]): string {
  const lines = photos.map(
    (photo) => `${photo.file} ${createHash('sha256').update(readFileSync(photo.path)).digest('hex')}`,
  );
  return createHash('sha256').update(lines.join('\n')).digest('hex');
}
