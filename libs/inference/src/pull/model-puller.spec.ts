import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readManifest } from '../manifest/manifest-loader';
import { digestMismatch, fileUrl, isPinned } from './model-puller';

const ROOT = resolve(__dirname, '..', '..', '..', '..');

describe('the default model manifest', () => {
  it('is pullable without --trust-unverified: its .h5 is pinned by git blob id and has a download URL', async () => {
    const manifest = await readManifest(
      join(ROOT, 'model-artifacts', 'food-vision-efficientnetb0', 'manifest.json'),
    );
    expect(manifest.format).toBe('keras-h5');
    const entry = manifest.files.find((file) => file.path === manifest.entry)!;
    expect(isPinned(entry)).toBe(true);
    expect(fileUrl(manifest, entry)).toMatch(
      /^https:\/\/raw\.githubusercontent\.com\/eRuaro\/food-vision-api\/[0-9a-f]{40}\/food-vision-model\.h5$/,
    );
  });
});

describe('digestMismatch', () => {
  const digest = { size: 10, sha256: 'a'.repeat(64), gitBlobSha1: 'b'.repeat(40) };
  it('checks size, then sha256, then the git blob id', () => {
    expect(digestMismatch({ path: 'm', size: 10, sha256: 'a'.repeat(64) }, digest)).toBeUndefined();
    expect(digestMismatch({ path: 'm', size: 11 }, digest)).toBe('10 bytes instead of 11');
    expect(digestMismatch({ path: 'm', sha256: 'c'.repeat(64) }, digest)).toMatch(
      /^sha256 a+ instead of c+$/,
    );
    expect(digestMismatch({ path: 'm', git_blob_sha1: 'd'.repeat(40) }, digest)).toMatch(
      /^git blob id b+ instead of d+$/,
    );
  });
});
