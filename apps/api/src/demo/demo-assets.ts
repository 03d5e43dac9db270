import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The page's files, beside this module in the sources and copied there by `nest build` (nest-cli.json assets). */
export const DEMO_ASSETS_DIR = join(__dirname, 'assets');

export interface DemoAsset {
  body: Buffer;
  contentType: string;
}

const FILES = {
  page: ['index.html', 'text/html; charset=utf-8'],
  script: ['demo.js', 'text/javascript; charset=utf-8'],
  style: ['demo.css', 'text/css; charset=utf-8'],
} as const;

export type DemoAssetName = keyof typeof FILES;

/** Reads the three files once, at start: a missing asset stops the app instead of a 404 later. */
export function loadDemoAssets(dir = DEMO_ASSETS_DIR): Record<DemoAssetName, DemoAsset> {
  const load = ([file, contentType]: readonly [string, string]) => ({
    body: readFileSync(join(dir, file)),
    contentType,
  });
  return { page: load(FILES.page), script: load(FILES.script), style: load(FILES.style) };
}
