import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controllerSetup, type ControllerApp } from '../../../../test/support/controller-setup';
import { DemoController } from './demo.controller';

// The /demo page's files as a browser fetches them: types, no caching surprises, and nothing from elsewhere.

let api: ControllerApp;

beforeAll(async () => {
  api = await controllerSetup([DemoController], []);
});

afterAll(() => api?.close());

describe('the /demo page (controller alone)', () => {
  it('serves the page, its script and its style with their types, revalidated on every load', async () => {
    for (const [path, type] of [
      ['/demo', /^text\/html/],
      ['/demo/demo.js', /^(text|application)\/javascript/],
      ['/demo/demo.css', /^text\/css/],
    ] as const) {
      const { status, headers, body } = await api.get(path);
      expect(status, path).toBe(200);
      expect(headers.get('content-type'), path).toMatch(type);
      expect(headers.get('cache-control'), path).toBe('no-cache');
      expect(String(body).length, path).toBeGreaterThan(100);
    }
  });

  it('links only its own files: no CDN, no third-party origin', async () => {
    const page = String((await api.get('/demo')).body);
    expect(page).toContain('src="/demo/demo.js"');
    expect(page).toContain('href="/demo/demo.css"');
    expect(page).not.toMatch(/(src|href)="(https?:)?\/\//);
  });
});
