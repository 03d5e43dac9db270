import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** `../shared` beside the project (CI has it read-only); SHARED_DIR overrides. Missing data fails loudly. */
export const SHARED_DIR = resolve(process.env.SHARED_DIR ?? join(__dirname, '..', '..', '..', 'shared'));

if (!existsSync(join(SHARED_DIR, 'models')) || !existsSync(join(SHARED_DIR, 'images', 'food'))) {
  throw new Error(
    `The shared models and photos are not at ${SHARED_DIR}: set SHARED_DIR to the shared/ folder.`,
  );
}

export const FOOD_IMAGES_DIR = join(SHARED_DIR, 'images', 'food');
const FIXTURE_MANIFESTS = resolve(__dirname, '..', 'fixtures', 'models');

export interface FixtureModel {
  manifest: string;
  dir: string;
}

export const FIXTURE_MODELS = {
  food101Tflite: {
    manifest: join(FIXTURE_MANIFESTS, 'stm32-food101-mobilenet-v1-int8', 'manifest.json'),
    dir: join(SHARED_DIR, 'models', 'stm32-food101-mobilenet_v1_0.5_224_fft_int8'),
  },
  mobilenetV2Tfjs: {
    manifest: join(FIXTURE_MANIFESTS, 'nsfwjs-mobilenet-v2', 'manifest.json'),
    dir: join(SHARED_DIR, 'models', 'nsfwjs-mobilenet_v2'),
  },
  food101KerasH5: {
    manifest: join(FIXTURE_MANIFESTS, 'stm32-food101-mobilenet-v2-h5', 'manifest.json'),
    dir: join(SHARED_DIR, 'models', 'stm32-food101-mobilenet_v2_0.35_224_fft_h5'),
  },
  food101ThreeClassTflite: {
    manifest: join(FIXTURE_MANIFESTS, 'tinyml-food101-3class', 'manifest.json'),
    dir: join(SHARED_DIR, 'models', 'tinyml-food101-3class'),
  },
} satisfies Record<string, FixtureModel>;

export interface FoodPhoto {
  file: string;
  path: string;
  label: string;
}

/** The real photos, labelled by their file name `<food101_label>__<n>.jpg`. */
export function foodPhotos(): FoodPhoto[] {
  return readdirSync(FOOD_IMAGES_DIR)
    .filter((file) => file.endsWith('.jpg'))
    .sort()
    .map((file) => ({ file, path: join(FOOD_IMAGES_DIR, file), label: file.split('__')[0] }));
}
