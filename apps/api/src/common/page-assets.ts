import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Response } from 'express';

/** One file of a page the service serves itself (/demo, /monitor): no CDN, no inline script. */
export interface PageAsset {
  body: Buffer;
  contentType: string;
}

export type PageAssetName = 'page' | 'script' | 'style';

/**
 * A page's three files, `index.html`, `<name>.js` and `<name>.css` in `dir`, read once at start: a missing asset
 * stops the app instead of a 404 later.
 */
export function loadPageAssets(dir: string, name: string): Record<PageAssetName, PageAsset> {
  const load = (file: string, contentType: string) => ({ body: readFileSync(join(dir, file)), contentType });
  return {
    page: load('index.html', 'text/html; charset=utf-8'),
    script: load(`${name}.js`, 'text/javascript; charset=utf-8'),
    style: load(`${name}.css`, 'text/css; charset=utf-8'),
  };
}

/** Sends a page asset, revalidated on every load so a new deploy's page is never mixed with an old script. */
export function sendPageAsset(response: Response, asset: PageAsset): void {
  response.setHeader('Content-Type', asset.contentType);
  response.setHeader('Cache-Control', 'no-cache');
  response.end(asset.body);
}
