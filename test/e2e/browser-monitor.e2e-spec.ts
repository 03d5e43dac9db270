/**
 * The /monitor page in Debian's Chromium (puppeteer-core), on the real Food-101 model with a reference profile made
 * on the 13 shared photos, beside the 3-class model without one: empty before traffic; after real photos and noise
 * images, every chart has drawn what the API answered; no request leaves 127.0.0.1, no CSP rule is broken, axe-core
 * finds nothing serious, and it fits 390 px and 1280 px (screenshots in test-artifacts/).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  inPage,
  launchBrowser,
  seriousAccessibilityViolations,
  SKIP_BROWSER_TESTS,
  textOf,
  watchedPage,
  type WatchedPage,
} from '../support/browser';
import { addToStore, noisePng, profileBeside } from '../support/monitoring-fixtures';
import { FIXTURE_MODELS, foodPhotos } from '../support/shared-data';
import { startTestApp, type RunningApp } from '../support/test-app';

const FOOD101 = 'food101-mobilenet-v1-int8';
const THREE_CLASS = 'food101-3class-cnn';
const ARTIFACTS = join(__dirname, '..', '..', 'test-artifacts');

interface Answer {
  label: string;
  confidence: number;
  abstained: boolean;
}

const count = (page: Page, selector: string): Promise<number> =>
  inPage(page, `document.querySelectorAll(${JSON.stringify(selector)}).length`);

/** The page's totals as { term: value }. */
async function totals(page: Page): Promise<Record<string, string>> {
  const pairs = await inPage<Array<[string, string]>>(
    page,
    `[...document.querySelectorAll('#totals dt')].map((term) => [term.textContent, term.nextElementSibling.textContent])`,
  );
  return Object.fromEntries(pairs);
}

/** Whether `selector` is rendered (not hidden, by its attribute or by CSS). */
const shown = (page: Page, selector: string): Promise<boolean> =>
  inPage(page, `document.querySelector(${JSON.stringify(selector)}).checkVisibility()`);

async function sideways(page: Page): Promise<number> {
  return inPage<number>(page, 'document.documentElement.scrollWidth - document.documentElement.clientWidth');
}

describe.skipIf(SKIP_BROWSER_TESTS)('the /monitor page in headless Chromium', () => {
  let store: string;
  let running: RunningApp;
  let browser: Browser;
  let watched: WatchedPage;
  const answers: Answer[] = [];

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    store = mkdtempSync(join(tmpdir(), 'monitor-store-'));
    await profileBeside(addToStore(store, FIXTURE_MODELS.food101Tflite));
    addToStore(store, FIXTURE_MODELS.food101ThreeClassTflite);
    running = await startTestApp(FIXTURE_MODELS.food101Tflite, {
      MODEL_STORE: store,
      DEFAULT_MODEL: FOOD101,
      INFERENCE_WORKERS: '1',
      DRIFT_MIN_PREDICTIONS: '20',
    });
    browser = await launchBrowser();
    watched = await watchedPage(browser, running.baseUrl);
    await watched.page.setViewport({ width: 1280, height: 1000 });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await running?.close();
    if (store) rmSync(store, { recursive: true, force: true });
  });

  async function classify(image: Buffer, extra: Record<string, unknown> = {}): Promise<void> {
    const response = await fetch(`${running.baseUrl}/v1/predictions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ image: image.toString('base64'), ...extra }),
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      predictions: Array<{ label: string; confidence: number }>;
      abstained?: boolean;
    };
    answers.push({ ...body.predictions[0], abstained: body.abstained === true });
  }

  it('before any traffic: loads under its CSP, offers both models and says there is no traffic yet', async () => {
    const { page } = watched;
    const response = await page.goto(`${running.baseUrl}/monitor`, { waitUntil: 'networkidle0' });
    expect(response!.status()).toBe(200);
    expect(response!.headers()['content-security-policy']).toContain("script-src 'self'");
    await page.waitForSelector('#model-view:not([hidden])', { timeout: 15_000 });
    expect(
      await inPage(page, `[...document.querySelectorAll('#model-select option')].map((o) => o.value)`),
    ).toEqual([FOOD101, THREE_CLASS]);
    expect(await shown(page, '#model-field')).toBe(true);
    expect(await shown(page, '#no-traffic')).toBe(true);
    expect(await shown(page, '#key-form')).toBe(false);
    expect(await textOf(page, '#status-badge')).toBe('Drift status: Warming up');
    expect(await textOf(page, '#chart-rate .empty-text')).toBe('No traffic yet');
    expect(await count(page, '#chart-rate .rate-bar')).toBe(0);
    // The reference is drawn before any traffic.
    expect(await count(page, '#chart-confidence .bar-reference')).toBe(12);
  });

  it('after real photos and noise: every chart draws what the API answered', async () => {
    const { page } = watched;
    const photos = foodPhotos().map((photo) => readFileSync(photo.path));
    for (const photo of [...photos, ...photos]) await classify(photo);
    for (const seed of [1, 2, 3, 4]) await classify(await noisePng(seed), { min_confidence: 0.9 });
    // The drift scores are sampled every 10 s and the page reads them every 5 s.
    await page.waitForFunction(
      `document.querySelectorAll('#chart-drift circle.point').length > 0 &&
        document.querySelector('#totals dd')?.textContent === '${answers.length}'`,
      { timeout: 30_000 },
    );

    expect(await shown(page, '#no-traffic')).toBe(false);
    expect((await totals(page))['Predictions, last hour']).toBe(String(answers.length));
    expect(await count(page, '#chart-rate .rate-bar')).toBeGreaterThan(0);
    expect(await count(page, '#chart-confidence .bar-now')).toBe(12);
    expect(await count(page, '#chart-confidence .bar-reference')).toBe(12);
    expect(await count(page, '#chart-drift .threshold')).toBe(2);
    expect(await count(page, '#chart-rates circle.point.low-confidence')).toBeGreaterThan(0);
    expect(await textOf(page, '#status-badge')).toMatch(/^Drift status: (OK|Drifting)$/);

    // The class mix names the classes answered most, among only classes answered or in the reference.
    const classesShown = await inPage<string[]>(
      page,
      `[...document.querySelectorAll('#chart-classes .class-label')].map((t) => t.dataset.label)`,
    );
    const byCount = new Map<string, number>();
    for (const { label } of answers) byCount.set(label, (byCount.get(label) ?? 0) + 1);
    const mostAnswered = [...byCount].sort((a, b) => b[1] - a[1])[0][0];
    expect(classesShown).toContain(mostAnswered);
    expect(classesShown).toContain('pizza');
    const reference = JSON.parse(
      readFileSync(join(store, FOOD101, '1', 'reference-profile.json'), 'utf8'),
    ) as { class_mix: Record<string, number> };
    for (const label of classesShown)
      expect(byCount.has(label) || label in reference.class_mix || label === 'other').toBe(true);

    // The low-confidence table: one row per unsure or withheld answer, the withheld ones marked.
    const unsure = answers.filter((answer) => answer.confidence < 0.5 || answer.abstained);
    expect(unsure.some((answer) => answer.abstained)).toBe(true);
    const rows = await inPage<string[][]>(
      page,
      `[...document.querySelectorAll('#latest-rows tr')].map((row) => [...row.cells].map((cell) => cell.textContent))`,
    );
    expect(rows).toHaveLength(Math.min(20, unsure.length));
    expect(rows.map((row) => row[2])).toEqual(
      [...unsure]
        .reverse()
        .slice(0, 20)
        .map((answer) => (answer.abstained ? 'yes' : 'no')),
    );
    expect(rows[0][0]).toMatch(/^\d\d:\d\d:\d\dvia v1$/);
    expect(rows[0][1]).toContain(unsure.at(-1)!.label.replace(/_/g, ' '));
  }, 60_000);

  it('has no serious or critical accessibility violations (axe-core)', async () => {
    expect(await seriousAccessibilityViolations(watched.page)).toEqual([]);
  });

  it('fits 1280 px and a 390 px phone without sideways scrolling', async () => {
    const { page } = watched;
    await page.screenshot({ path: join(ARTIFACTS, 'monitor-1280.png'), fullPage: true });
    expect(await sideways(page)).toBeLessThanOrEqual(0);
    await page.setViewport({ width: 390, height: 844 });
    // The charts are redrawn to the new width.
    await page.waitForFunction(`Number(document.querySelector('#chart-rate').getAttribute('width')) < 390`);
    await page.screenshot({ path: join(ARTIFACTS, 'monitor-390.png'), fullPage: true });
    const overflow = await sideways(page);
    expect(await seriousAccessibilityViolations(page)).toEqual([]);
    await page.setViewport({ width: 1280, height: 1000 });
    expect(overflow).toBeLessThanOrEqual(0);
  });

  it('shows the other model, chosen from the keyboard, as without traffic and without a reference', async () => {
    const { page } = watched;
    await page.focus('#model-select');
    await page.keyboard.press('ArrowDown');
    await page.waitForFunction(
      `document.querySelector('#model-heading').textContent.startsWith(${JSON.stringify(THREE_CLASS)})`,
    );
    expect(await shown(page, '#no-traffic')).toBe(true);
    expect(await textOf(page, '#status-badge')).toBe('Drift status: No reference');
    expect(await textOf(page, '#drift-summary')).toContain('npm run model:profile');
    expect(await count(page, '#chart-confidence .bar-reference')).toBe(0);
    expect(await shown(page, '#latest-empty')).toBe(true);
  });

  it('broke no CSP rule and sent nothing beyond its own origin', async () => {
    expect(await watched.cspViolations()).toEqual([]);
    expect(watched.foreignRequests).toEqual([]);
  });
});

describe.skipIf(SKIP_BROWSER_TESTS)('the /monitor page when the API needs a key', () => {
  const KEY = 'monitor-test-key-0123456789';
  let running: RunningApp;
  let browser: Browser;

  beforeAll(async () => {
    running = await startTestApp(FIXTURE_MODELS.food101Tflite, { API_KEYS: KEY, INFERENCE_WORKERS: '1' });
    browser = await launchBrowser();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await running?.close();
  });

  it('asks for the key, then draws with it, and keeps it nowhere but the page', async () => {
    const watched = await watchedPage(browser, running.baseUrl);
    const { page } = watched;
    const response = await page.goto(`${running.baseUrl}/monitor`, { waitUntil: 'networkidle0' });
    expect(response!.status()).toBe(200);
    await page.waitForSelector('#key-form:not([hidden])');
    const unauthorized = (await (await fetch(`${running.baseUrl}/v1/monitoring`)).json()) as {
      title: string;
    };
    expect(await textOf(page, '#problem-title')).toBe(unauthorized.title);
    expect(await shown(page, '#model-view')).toBe(false);
    await page.type('#api-key', KEY);
    await page.keyboard.press('Enter');
    await page.waitForSelector('#model-view:not([hidden])', { timeout: 15_000 });
    expect(await shown(page, '#problem')).toBe(false);
    expect(await textOf(page, '#model-heading')).toBe(`${FOOD101}, version 1`);
    // One model: no selector.
    expect(await shown(page, '#model-field')).toBe(false);
    expect(await inPage(page, '[localStorage.length, sessionStorage.length, document.cookie]')).toEqual([
      0,
      0,
      '',
    ]);
    expect(await watched.cspViolations()).toEqual([]);
    expect(watched.foreignRequests).toEqual([]);
    await page.close();
  });
});
