import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { FIXTURE_MODELS, SHARED_DIR } from './shared-data';

/** The second real Food-101 model, a different network: MobileNetV2 0.35 int8 (same labels, same input). */
export const MOBILENET_V2_INT8 = {
  dir: join(SHARED_DIR, 'models', 'stm32-food101-mobilenet_v2_0.35_224_fft_int8'),
  entry: 'mobilenet_v2_0.35_224_fft_int8.tflite',
};

interface Manifest {
  name: string;
  version: string;
  entry: string;
  files: Array<{ path: string; size?: number; sha256?: string }>;
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/**
 * `<store>/<name>/<version>/`: the MobileNetV1 int8 fixture's manifest, renamed, with links to its files; with
 * `v2`, the MobileNetV2 int8 model instead; with `corrupt`, a truncated model file whose pinned digest matches (it
 * passes the checksum and fails to load). Returns the manifest's path.
 */
export function addModelVersion(
  store: string,
  name: string,
  version: string,
  { v2 = false, corrupt = false }: { v2?: boolean; corrupt?: boolean } = {},
): string {
  const manifest = JSON.parse(readFileSync(FIXTURE_MODELS.food101Tflite.manifest, 'utf8')) as Manifest;
  const dir = v2 ? MOBILENET_V2_INT8.dir : FIXTURE_MODELS.food101Tflite.dir;
  manifest.name = name;
  manifest.version = version;
  if (v2) {
    manifest.entry = MOBILENET_V2_INT8.entry;
    manifest.files[0] = { path: MOBILENET_V2_INT8.entry };
  }
  const folder = join(store, name, version);
  mkdirSync(folder, { recursive: true });
  for (const file of manifest.files) {
    const source = join(dir, basename(file.path));
    const bytes = readFileSync(source);
    if (corrupt && file.path === manifest.entry) {
      const broken = bytes.subarray(0, 4096);
      writeFileSync(join(folder, file.path), broken);
      Object.assign(file, { size: broken.length, sha256: sha256(broken) });
    } else {
      symlinkSync(source, join(folder, file.path));
      Object.assign(file, { size: bytes.length, sha256: sha256(bytes) });
    }
  }
  writeFileSync(join(folder, 'manifest.json'), JSON.stringify(manifest));
  return join(folder, 'manifest.json');
}
