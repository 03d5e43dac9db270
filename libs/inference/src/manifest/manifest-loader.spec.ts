import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { testManifest } from '../../../../test/support/test-manifest';
import { readManifest, resolveModel } from './manifest-loader';
import type { ModelManifest } from './model-manifest';

const sha256 = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');
const gitBlob = (bytes: Buffer) =>
  createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');

function modelFolder(
  files: Record<string, Buffer | string>,
  manifest: (entries: Record<string, unknown>[]) => unknown,
) {
  const dir = mkdtempSync(join(tmpdir(), 'manifest-test-'));
  const entries = Object.entries(files).map(([path, content]) => {
    writeFileSync(join(dir, path), content);
    return { path, size: Buffer.byteLength(content), sha256: sha256(content) };
  });
  const manifestPath = join(dir, 'manifest.json');
  writeFileSync(manifestPath, JSON.stringify(manifest(entries)));
  return { dir, manifestPath };
}

const baseManifest = (files: unknown[]) =>
  testManifest({
    name: 'tiny',
    files: files as ModelManifest['files'],
    labels_file: 'labels.txt',
    input: { height: 4, width: 4 },
    output: { kind: 'logits' },
    source: { url: 'https://example.com/tiny.tflite' },
    license: { name: 'MIT', redistributable: true },
  });

describe('resolveModel', () => {
  const files = { 'model.tflite': Buffer.from('not really a model'), 'labels.txt': 'apple_pie\nhot_dog\n' };

  it('verifies the files and reads labels with the seed display names', async () => {
    const { manifestPath } = modelFolder(files, baseManifest);
    const resolved = await resolveModel({ manifestPath });
    expect(resolved.labels).toEqual(['apple_pie', 'hot_dog']);
    expect(resolved.displayNames).toEqual(['apple pie', 'hot dog']);
    expect(resolved.sha256).toBe(sha256(files['model.tflite']));
  });

  it('takes the files from MODEL_DIR when given', async () => {
    const { dir } = modelFolder(files, baseManifest);
    const other = mkdtempSync(join(tmpdir(), 'manifest-only-'));
    writeFileSync(join(other, 'manifest.json'), readFileSync(join(dir, 'manifest.json')));
    const resolved = await resolveModel({ manifestPath: join(other, 'manifest.json'), modelDir: dir });
    expect(resolved.dir).toBe(dir);
  });

  it('refuses a file whose sha256 differs, in one sentence naming both hashes', async () => {
    const { manifestPath, dir } = modelFolder(files, baseManifest);
    writeFileSync(join(dir, 'model.tflite'), 'not really a modeL');
    await expect(resolveModel({ manifestPath })).rejects.toThrow(
      /has sha256 [0-9a-f]{64} but the manifest pins [0-9a-f]{64}/,
    );
  });

  it('refuses a truncated file by its size', async () => {
    const { manifestPath, dir } = modelFolder(files, baseManifest);
    writeFileSync(join(dir, 'model.tflite'), 'not really');
    await expect(resolveModel({ manifestPath })).rejects.toThrow(/has 10 bytes but the manifest says 18/);
  });

  it('names the missing files, the source and MODEL_DIR', async () => {
    const { manifestPath } = modelFolder({ 'labels.txt': files['labels.txt'] }, (entries) =>
      baseManifest([...entries, { path: 'model.tflite', sha256: 'a'.repeat(64) }]),
    );
    await expect(resolveModel({ manifestPath })).rejects.toThrow(
      /is missing model\.tflite in .*: put the files there \(source: https:\/\/example\.com\/tiny\.tflite\) or set MODEL_DIR/,
    );
  });

  it('checks a git blob id as well as sha256', async () => {
    const model = Buffer.from('weights');
    const { manifestPath } = modelFolder({ 'model.tflite': model, 'labels.txt': 'a\nb' }, (entries) =>
      baseManifest(
        entries.map((entry) =>
          entry.path === 'model.tflite' ? { path: entry.path, git_blob_sha1: gitBlob(model) } : entry,
        ),
      ),
    );
    await expect(resolveModel({ manifestPath })).resolves.toBeDefined();
    const wrong = modelFolder({ 'model.tflite': model, 'labels.txt': 'a\nb' }, (entries) =>
      baseManifest(
        entries.map((entry) =>
          entry.path === 'model.tflite' ? { path: entry.path, git_blob_sha1: 'f'.repeat(40) } : entry,
        ),
      ),
    );
    await expect(resolveModel({ manifestPath: wrong.manifestPath })).rejects.toThrow(/git blob id/);
  });

  it('refuses paths that leave the model folder', async () => {
    const { manifestPath } = modelFolder(files, (entries) =>
      baseManifest([...entries, { path: '../../etc/passwd', sha256: 'a'.repeat(64) }]),
    );
    await expect(resolveModel({ manifestPath })).rejects.toThrow(/leaves the model folder/);
  });
});

describe('readManifest', () => {
  it('lists every invalid field in one message', async () => {
    const { manifestPath } = modelFolder({ 'labels.txt': 'a\nb' }, (entries) => ({
      ...baseManifest(entries),
      format: 'pickle',
      input: { ...baseManifest([]).input, height: 0 },
      typo_field: 1,
    }));
    const error = await readManifest(manifestPath).catch((caught: Error) => caught);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/format must be one of/);
    expect((error as Error).message).toMatch(/input\.height must not be less than 1/);
    expect((error as Error).message).toMatch(/typo_field should not exist/);
  });

  it('refuses uint8 input with a value range other than raw pixels', async () => {
    const { manifestPath } = modelFolder({ 'model.tflite': 'x', 'labels.txt': 'a\nb' }, (entries) => ({
      ...baseManifest(entries),
      input: { ...baseManifest([]).input, dtype: 'uint8', value_range: [0, 1] },
    }));
    await expect(readManifest(manifestPath)).rejects.toThrow(/a uint8 input takes raw pixels/);
  });

  it('takes resize.fidelity exact or fast, and refuses anything else', async () => {
    for (const fidelity of ['exact', 'fast']) {
      const { manifestPath } = modelFolder({ 'model.tflite': 'x', 'labels.txt': 'a\nb' }, (entries) => {
        const base = baseManifest(entries);
        return { ...base, input: { ...base.input, resize: { ...base.input.resize, fidelity } } };
      });
      expect((await readManifest(manifestPath)).input.resize.fidelity).toBe(fidelity);
    }
    const { manifestPath } = modelFolder({ 'model.tflite': 'x', 'labels.txt': 'a\nb' }, (entries) => {
      const base = baseManifest(entries);
      return { ...base, input: { ...base.input, resize: { ...base.input.resize, fidelity: 'blurry' } } };
    });
    await expect(readManifest(manifestPath)).rejects.toThrow(/input\.resize\.fidelity must be one of/);
  });

  it('says when the file is not JSON', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'manifest-bad-'));
    writeFileSync(join(dir, 'manifest.json'), '{ nope');
    await expect(readManifest(join(dir, 'manifest.json'))).rejects.toThrow(/is not valid JSON/);
  });
});
