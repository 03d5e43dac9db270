import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controllerSetup, type ControllerApp } from '../../../../test/support/controller-setup';
import { MonitorController } from './monitor.controller';

// The /monitor page's files as a browser fetches them: types, no caching surprises, and nothing from elsewhere.

let api: ControllerApp;

beforeAll(async () => {
  api = await controllerSetup([MonitorController], []);
});

afterAll(() => api?.close());

describe('the /monitor page (controller alone)', () => {
  it('serves the page, its script and its style with their types, revalidated on every load', async () => {
    for (const [path, type] of [
      ['/monitor', /^text\/html/],
      ['/monitor/monitor.js', /^(text|application)\/javascript/],
      ['/monitor/monitor.css', /^text\/css/],
    ] as const) {
      const { status, headers, body } = await api.get(path);
      expect(status, path).toBe(200);
      expect(headers.get('content-type'), path).toMatch(type);
      expect(headers.get('cache-control'), path).toBe('no-cache');
      expect(String(body).length, path).toBeGreaterThan(100);
    }
  });

  it('links only its own files, has no inline script or style, and reads only /v1/monitoring', async () => {
    const page = String((await api.get('/monitor')).body);
    expect(page).toContain('src="/monitor/monitor.js"');
    expect(page).toContain('href="/monitor/monitor.css"');
    expect(page).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(page).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    expect(page).not.toMatch(/<style|\sstyle=/);
    const script = String((await api.get('/monitor/monitor.js')).body);
    expect([...script.matchAll(/fetch\('([^']+)'/g)].map((match) => match[1])).toEqual(['/v1/monitoring']);
    expect(script).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
  });
});
