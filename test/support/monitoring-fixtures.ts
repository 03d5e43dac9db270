import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import sharp from 'sharp';
import { resolveModel, writeReferenceProfile, type ReferenceProfile } from '@app/inference';
import { FOOD_IMAGES_DIR, type FixtureModel } from './shared-data';

/**
 * The model's reference profile on the 13 shared photos, made with the library `npm run model:profile` runs and
 * written beside `manifestPath` (which must be a copy the test owns: the manifest is updated to name it).
 */
export async function profileBeside(manifestPath: string, modelDir?: string): Promise<ReferenceProfile> {
  const resolved = await resolveModel({ manifestPath, ...(modelDir ? { modelDir } : {}) });
  return (await writeReferenceProfile(resolved, { folder: FOOD_IMAGES_DIR })).profile;
}

/** `<store>/<name>/1/` with the fixture's manifest and links to its files, as a MODEL_STORE holds them. */
export function addToStore(store: string, fixture: FixtureModel): string {
  const manifest = JSON.parse(readFileSync(fixture.manifest, 'utf8')) as {
    name: string;
    files: Array<{ path: string }>;
  };
  const dir = join(store, manifest.name, '1');
  mkdirSync(dir, { recursive: true });
  for (const file of manifest.files)
    symlinkSync(join(fixture.dir, basename(file.path)), join(dir, file.path));
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ ...manifest, version: '1' }));
  return join(dir, 'manifest.json');
}

/** A PNG of deterministic noise (the same on every run): the model is unsure of it. */
export function noisePng(seed: number, side = 256): Promise<Buffer> {
  let state = seed;
  const pixels = Buffer.from(
    Array.from({ length: side * side * 3 }, () => {
      state = (state * 1103515245 + 12345) >>> 0;
      return state >>> 24;
    }),
  );
  return sharp(pixels, { raw: { width: side, height: side, channels: 3 } })
    .png()
    .toBuffer();
}
