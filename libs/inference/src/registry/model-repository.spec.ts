import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareVersions, latestVersion, scanModelRepository } from './model-repository';

function store(layout: string[]): string {
  const root = mkdtempSync(join(tmpdir(), 'model-store-'));
  for (const path of layout) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), '{}');
  }
  return root;
}

describe('compareVersions', () => {
  it('orders numeric versions as numbers, before named ones', () => {
    expect(['10', '2', 'beta', '1'].sort(compareVersions)).toEqual(['1', '2', '10', 'beta']);
  });
});

describe('scanModelRepository', () => {
  it('finds every model and version with a manifest, latest last', async () => {
    const root = store([
      'food/1/manifest.json',
      'food/10/manifest.json',
      'food/2/manifest.json',
      'tiny/1/manifest.json',
    ]);
    mkdirSync(join(root, 'food', '3'));
    const models = await scanModelRepository(root);
    expect(models.map((model) => model.name)).toEqual(['food', 'tiny']);
    expect(models[0].versions.map((version) => version.version)).toEqual(['1', '2', '10']);
    expect(latestVersion(models[0])).toMatchObject({ version: '10', dir: join(root, 'food', '10') });
  });

  it('skips folders that are not model names or hold no manifest', async () => {
    const root = store(['Bad Name/1/manifest.json', 'ok/1/manifest.json', 'empty/1/readme.txt']);
    expect((await scanModelRepository(root)).map((model) => model.name)).toEqual(['ok']);
  });

  it('says what layout it expects when the store is empty or missing', async () => {
    await expect(scanModelRepository(store([]))).rejects.toThrow(
      /holds no model: expected <model>\/<version>\/manifest.json/,
    );
    await expect(scanModelRepository('/nonexistent/store')).rejects.toThrow(/is not a folder/);
  });
});
