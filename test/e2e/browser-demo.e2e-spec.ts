import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  inPage,
  isHidden,
  launchBrowser,
  seriousAccessibilityViolations,
  SKIP_BROWSER_TESTS,
  textOf,
  watchedPage,
  type WatchedPage,
} from '../support/browser';
import { serveBytes, startImageServer, type ImageServer } from '../support/image-server';
import { FIXTURE_MODELS, FOOD_IMAGES_DIR, type FixtureModel } from '../support/shared-data';
import { startTestApp, type RunningApp } from '../support/test-app';

const FOOD101 = 'food101-mobilenet-v1-int8';
const THREE_CLASS = 'food101-3class-cnn';
const ARTIFACTS = join(__dirname, '..', '..', 'test-artifacts');
const PIZZA = join(FOOD_IMAGES_DIR, 'pizza__1.jpg');
const CARBONARA = join(FOOD_IMAGES_DIR, 'spaghetti_carbonara__1.jpg');
const FALAFEL = join(FOOD_IMAGES_DIR, 'falafel__1.jpg');

interface Answer {
  model: { name: string; version: string };
  predictions: Array<{ display_name: string; confidence: number }>;
}

/** `<store>/<name>/1/` with the fixture's manifest and links to its files, as a MODEL_STORE holds them. */
function addToStore(store: string, fixture: FixtureModel): void {
  const manifest = JSON.parse(readFileSync(fixture.manifest, 'utf8')) as {
    name: string;
    files: Array<{ path: string }>;
  };
  const dir = join(store, manifest.name, '1');
  mkdirSync(dir, { recursive: true });
  for (const file of manifest.files)
    symlinkSync(join(fixture.dir, basename(file.path)), join(dir, file.path));
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ ...manifest, version: '1' }));
}

const percent = (confidence: number) => `${(confidence * 100).toFixed(1)} %`;

/** What the page shows as bars: [label, percentage] per row. */
function bars(page: Page): Promise<string[][]> {
  return inPage(
    page,
    `[...document.querySelectorAll('#bars li')].map((item) =>
      [item.querySelector('.label').textContent, item.querySelector('.percent').textContent])`,
  );
}

/** The details list as { term: value }. */
async function details(page: Page): Promise<Record<string, string>> {
  const pairs = await inPage<Array<[string, string]>>(
    page,
    `[...document.querySelectorAll('#details dt')].map((term) =>
      [term.textContent, term.nextElementSibling.textContent])`,
  );
  return Object.fromEntries(pairs);
}

describe.skipIf(SKIP_BROWSER_TESTS)('the /demo page and Swagger UI in headless Chromium', () => {
  let store: string;
  let running: RunningApp;
  let images: ImageServer;
  let browser: Browser;
  let watched: WatchedPage;
  let textFile: string;

  /** The service's own answer for the same photo, which the page must show as it is. */
  async function apiAnswer(body: Record<string, unknown>): Promise<Answer> {
    const response = await fetch(`${running.baseUrl}/v1/predictions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(200);
    return (await response.json()) as Answer;
  }

  /** Until the result shown is that of `name` (the page's code runs in the browser, so the check is a string). */
  async function waitForModel(page: Page, name: string): Promise<void> {
    const check = `(() => {
      const term = [...document.querySelectorAll('#details dt')].find((dt) => dt.textContent === 'Model');
      return term?.nextElementSibling?.textContent === ${JSON.stringify(name)} &&
        !document.querySelector('#result').hidden && !document.querySelector('#classify-button').disabled;
    })()`;
    await page.waitForFunction(check, { timeout: 30_000 });
  }

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    store = mkdtempSync(join(tmpdir(), 'demo-store-'));
    addToStore(store, FIXTURE_MODELS.food101Tflite);
    addToStore(store, FIXTURE_MODELS.food101ThreeClassTflite);
    textFile = join(store, 'notes.txt');
    writeFileSync(textFile, 'Not a photo: a shopping list.\nflour, tomatoes, mozzarella\n');
    images = await startImageServer({ '/carbonara.jpg': serveBytes(readFileSync(CARBONARA)) });
    running = await startTestApp(FIXTURE_MODELS.food101Tflite, {
      MODEL_STORE: store,
      DEFAULT_MODEL: FOOD101,
      INFERENCE_WORKERS: '1',
    });
    browser = await launchBrowser();
    watched = await watchedPage(browser, running.baseUrl);
    await watched.page.setViewport({ width: 1100, height: 1000 });
  });

  afterAll(async () => {
    await browser?.close();
    await running?.close();
    await images?.close();
    if (store) rmSync(store, { recursive: true, force: true });
  });

  it('loads the page under its CSP and lists the served models', async () => {
    const { page } = watched;
    const response = await page.goto(`${running.baseUrl}/demo`, { waitUntil: 'networkidle0' });
    expect(response!.status()).toBe(200);
    expect(response!.headers()['content-security-policy']).toContain("script-src 'self'");
    await page.waitForSelector('#model-select option');
    const options = await inPage(
      page,
      `[...document.querySelectorAll('#model-select option')].map((o) => ({ value: o.value, selected: o.selected }))`,
    );
    expect(options).toEqual([
      { value: FOOD101, selected: true },
      { value: THREE_CLASS, selected: false },
    ]);
  });

  it('classifies an uploaded photo: pizza first, with its percentage, the model input and the timings', async () => {
    const { page } = watched;
    const input = await page.$('#file-input');
    await input!.uploadFile(PIZZA);
    await waitForModel(page, FOOD101);
    const expected = await apiAnswer({ image: readFileSync(PIZZA).toString('base64'), top_k: 5 });
    const shown = await bars(page);
    expect(shown[0]).toEqual(['pizza', percent(expected.predictions[0].confidence)]);
    expect(shown).toEqual(expected.predictions.map((p) => [p.display_name, percent(p.confidence)]));
    const sizes = await inPage(
      page,
      `['#sent-image', '#model-input-image'].map((selector) => {
        const image = document.querySelector(selector);
        return [image.complete, image.naturalWidth, image.naturalHeight];
      })`,
    );
    expect(sizes).toEqual([
      [true, 740, 740],
      [true, 224, 224],
    ]);
    const shownDetails = await details(page);
    expect(shownDetails).toMatchObject({
      Model: FOOD101,
      Version: '1',
      Engine: expect.stringMatching(/^litert/),
    });
    for (const step of ['Fetch', 'Decode and resize', 'Inference', 'Total'])
      expect(shownDetails[step]).toMatch(/^\d+\.\d ms$/);
    await page.screenshot({ path: join(ARTIFACTS, 'demo.png'), fullPage: true });
  });

  it('has no serious or critical accessibility violations (axe-core)', async () => {
    expect(await seriousAccessibilityViolations(watched.page)).toEqual([]);
  });

  it('fits a phone: no sideways scrolling at 390 px', async () => {
    const { page } = watched;
    // Width only: changing isMobile would reload the page and lose the result.
    await page.setViewport({ width: 390, height: 844 });
    const overflow = await inPage<number>(
      page,
      'document.documentElement.scrollWidth - document.documentElement.clientWidth',
    );
    await page.screenshot({ path: join(ARTIFACTS, 'demo-phone.png'), fullPage: true });
    await page.setViewport({ width: 1100, height: 1000 });
    expect(overflow).toBeLessThanOrEqual(0);
  });

  it('classifies the same photo again with the model picked', async () => {
    const { page } = watched;
    await page.select('#model-select', THREE_CLASS);
    await waitForModel(page, THREE_CLASS);
    const expected = await apiAnswer({ image: readFileSync(PIZZA).toString('base64'), model: THREE_CLASS });
    expect(await bars(page)).toEqual(
      expected.predictions.map((p) => [p.display_name, percent(p.confidence)]),
    );
    expect((await bars(page))[0][0]).toBe('pizza');
  });

  it('classifies a photo by URL, which the service downloads', async () => {
    const { page } = watched;
    await page.select('#model-select', FOOD101);
    await waitForModel(page, FOOD101);
    const url = images.url('/carbonara.jpg');
    await page.type('#url-input', url);
    await page.click('#classify-button');
    await page.waitForFunction(
      "document.querySelector('#bars li .label')?.textContent === 'spaghetti carbonara'",
      { timeout: 30_000 },
    );
    // The three-class model capped "Classes shown" at 3, and it stays so.
    const topK = Number(await inPage<string>(page, "document.querySelector('#top-k').value"));
    expect(topK).toBe(3);
    const expected = await apiAnswer({ url, top_k: topK });
    expect(expected.predictions[0].display_name).toBe('spaghetti carbonara');
    expect(await bars(page)).toEqual(
      expected.predictions.map((p) => [p.display_name, percent(p.confidence)]),
    );
    expect(await isHidden(page, '#sent-figure')).toBe(true);
  });

  it('explains a photo: "Explain" turned on from the keyboard lays a heatmap over what the model saw, with a legend and an opacity slider', async () => {
    // The falafel photo: the model is 84 % sure, so hiding a patch moves it (on a photo it is 100 % sure of, the
    // int8 model's probability does not move and the map is flat).
    const { page } = watched;
    await (await page.$('#file-input'))!.uploadFile(FALAFEL);
    await page.waitForFunction(
      `document.querySelector('#bars .label')?.textContent === 'falafel' && !document.querySelector('#classify-button').disabled`,
      { timeout: 30_000 },
    );
    await page.focus('#explain-toggle');
    await page.keyboard.press('Space');
    await page.waitForFunction(
      `(() => {
        const overlay = document.querySelector('#explanation-overlay');
        return !overlay.hidden && overlay.complete && overlay.naturalWidth === 224 &&
          !document.querySelector('#classify-button').disabled;
      })()`,
      { timeout: 60_000 },
    );
    const api = await fetch(`${running.baseUrl}/v1/predictions?explain=occlusion`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ image: readFileSync(FALAFEL).toString('base64') }),
    });
    const expected = (await api.json()) as {
      explanation: { class: { label: string }; overlay_scale: number; cost: { masked_images: number } };
    };
    expect(expected.explanation.overlay_scale).toBeGreaterThan(0.1);
    expect(await textOf(page, '#explanation-caption')).toContain(
      `“${expected.explanation.class.label.replace(/_/g, ' ')}”`,
    );
    expect(await textOf(page, '#legend-text')).toContain(
      `up to ${(expected.explanation.overlay_scale * 100).toFixed(1)} points lower`,
    );
    expect((await details(page)).Explanation).toMatch(
      new RegExp(`^${expected.explanation.cost.masked_images} masked images, \\d+\\.\\d ms$`),
    );
    // The heatmap covers the model input exactly.
    const boxes = await inPage<number[][]>(
      page,
      `['#model-input-image', '#explanation-overlay'].map((selector) => {
        const box = document.querySelector(selector).getBoundingClientRect();
        return [box.left, box.top, box.width, box.height].map(Math.round);
      })`,
    );
    expect(boxes[1]).toEqual(boxes[0]);
    // The slider, from the keyboard: 75 % down three steps of 5.
    await page.focus('#overlay-opacity');
    for (let step = 0; step < 3; step++) await page.keyboard.press('ArrowLeft');
    expect(await inPage(page, `document.querySelector('#explanation-overlay').style.opacity`)).toBe('0.6');
    expect(await seriousAccessibilityViolations(page)).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, 'demo-explain.png'), fullPage: true });
    await page.setViewport({ width: 390, height: 844 });
    const overflow = await inPage<number>(
      page,
      'document.documentElement.scrollWidth - document.documentElement.clientWidth',
    );
    await page.screenshot({ path: join(ARTIFACTS, 'demo-explain-phone.png'), fullPage: true });
    await page.setViewport({ width: 1280, height: 1000 });
    await page.screenshot({ path: join(ARTIFACTS, 'demo-explain-1280.png'), fullPage: true });
    await page.setViewport({ width: 1100, height: 1000 });
    expect(overflow).toBeLessThanOrEqual(0);
    // Off again: the next answer has no heatmap.
    await page.focus('#explain-toggle');
    await page.keyboard.press('Space');
    await page.waitForFunction(
      `document.querySelector('#explanation-controls').hidden && !document.querySelector('#classify-button').disabled`,
      { timeout: 30_000 },
    );
    expect(await isHidden(page, '#explanation-overlay')).toBe(true);
  }, 90_000);

  it('shows the problem of a text file as its title and detail', async () => {
    const { page } = watched;
    const form = new FormData();
    form.append('image', new Blob([readFileSync(textFile)], { type: 'text/plain' }), 'notes.txt');
    const direct = await fetch(`${running.baseUrl}/v1/predictions`, { method: 'POST', body: form });
    const problem = (await direct.json()) as { code: string; title: string; detail: string };
    expect(problem.code).toBe('unsupported_image');
    await (await page.$('#file-input'))!.uploadFile(textFile);
    await page.waitForSelector('#problem:not([hidden])', { timeout: 30_000 });
    expect(await textOf(page, '#problem-title')).toBe(problem.title);
    expect(await textOf(page, '#problem-detail')).toBe(problem.detail);
    expect(await isHidden(page, '#result')).toBe(true);
    expect(await inPage(page, "document.querySelector('#url-input').value")).toBe('');
  });

  it.each([
    ['pasted from the clipboard', 'paste', CARBONARA],
    ['dropped on the page', 'drop', PIZZA],
  ])('classifies a photo %s', async (_how, event, photo) => {
    const { page } = watched;
    await page.select('#model-select', FOOD101);
    // A real clipboard or drag needs a desktop; the page gets the same event a browser would fire.
    const base64 = readFileSync(photo).toString('base64');
    const expected = await apiAnswer({ image: base64, top_k: 3 });
    await inPage(
      page,
      `(() => {
        const bytes = Uint8Array.from(atob(${JSON.stringify(base64)}), (c) => c.charCodeAt(0));
        const data = new DataTransfer();
        data.items.add(new File([bytes], 'photo.jpg', { type: 'image/jpeg' }));
        const event = ${JSON.stringify(event)} === 'paste'
          ? new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true })
          : new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true });
        (${JSON.stringify(event)} === 'paste' ? document.body : document.querySelector('#drop-zone')).dispatchEvent(event);
      })()`,
    );
    const label = JSON.stringify(expected.predictions[0].display_name);
    await page.waitForFunction(
      `!document.querySelector('#result').hidden && !document.querySelector('#sent-figure').hidden &&
        document.querySelector('#bars li .label')?.textContent === ${label}`,
      { timeout: 30_000 },
    );
    expect(expected.predictions[0].display_name).toBe(basename(photo).split('__')[0].replace(/_/g, ' '));
    expect(await inPage(page, "document.querySelector('#sent-image').naturalWidth")).toBeGreaterThan(0);
  });

  it('broke no CSP rule and sent nothing beyond its own origin', async () => {
    expect(await watched.cspViolations()).toEqual([]);
    expect(watched.foreignRequests).toEqual([]);
  });

  it("renders Swagger UI at /docs under its CSP, links /demo, and runs GET /v1/models with 'Try it out'", async () => {
    const docs = await watchedPage(browser, running.baseUrl);
    try {
      const { page } = docs;
      const response = await page.goto(`${running.baseUrl}/docs`, { waitUntil: 'networkidle0' });
      expect(response!.headers()['content-security-policy']).toContain(
        "style-src 'self' 'unsafe-hashes' 'sha256-",
      );
      await page.waitForSelector('.swagger-ui .info .title', { timeout: 30_000 });
      expect(await textOf(page, '.swagger-ui .info .title')).toContain('Food Vision API');
      expect(await page.$('.swagger-ui .info a[href="/demo"]')).not.toBeNull();
      await page.click('#operations-models-listModels .opblock-summary');
      await page.waitForSelector('#operations-models-listModels .try-out__btn');
      await page.click('#operations-models-listModels .try-out__btn');
      await page.click('#operations-models-listModels .execute');
      await page.waitForSelector(
        '#operations-models-listModels .live-responses-table tbody .response-col_status',
        {
          timeout: 30_000,
        },
      );
      const row = '#operations-models-listModels .live-responses-table tbody';
      expect(await textOf(page, `${row} .response-col_status`)).toBe('200');
      const body = await textOf(page, `${row} .response-col_description`);
      expect(body).toContain(FOOD101);
      await page.screenshot({ path: join(ARTIFACTS, 'docs.png') });
      expect(await docs.cspViolations()).toEqual([]);
      expect(docs.foreignRequests).toEqual([]);
    } finally {
      await docs.page.close();
    }
  });
});

describe.skipIf(SKIP_BROWSER_TESTS)('the /demo page when the API needs a key', () => {
  const KEY = 'demo-test-key-0123456789';
  let running: RunningApp;
  let browser: Browser;

  beforeAll(async () => {
    running = await startTestApp(FIXTURE_MODELS.food101Tflite, { API_KEYS: KEY });
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await running?.close();
  });

  it('says so, takes the key typed in, classifies with it, and keeps it nowhere but the page', async () => {
    const watched = await watchedPage(browser, running.baseUrl);
    const { page } = watched;
    const response = await page.goto(`${running.baseUrl}/demo`, { waitUntil: 'networkidle0' });
    expect(response!.status()).toBe(200);
    await page.waitForSelector('#problem:not([hidden])');
    const unauthorized = (await (await fetch(`${running.baseUrl}/v1/models`)).json()) as { title: string };
    expect(await textOf(page, '#problem-title')).toBe(unauthorized.title);
    await page.type('#api-key', KEY);
    await page.keyboard.press('Tab');
    await page.waitForSelector('#model-select option');
    await (await page.$('#file-input'))!.uploadFile(PIZZA);
    await page.waitForSelector('#result:not([hidden])', { timeout: 30_000 });
    expect((await bars(page))[0][0]).toBe('pizza');
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
