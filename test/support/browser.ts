import { existsSync, readFileSync } from 'node:fs';
import puppeteer, { type Browser, type HTTPRequest, type Page } from 'puppeteer-core';

const CANDIDATES = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'];

/** Debian's chromium (`apt-get install chromium`; .ci/run installs it), or CHROMIUM_PATH. */
export const CHROMIUM = CANDIDATES.find((path): path is string => !!path && existsSync(path));

/** Under CI=true a missing browser fails the browser tests instead of skipping them. */
export const SKIP_BROWSER_TESTS = !CHROMIUM && process.env.CI !== 'true';

export function requireChromium(): string {
  if (!CHROMIUM) {
    throw new Error('chromium is not installed (apt-get install chromium, or set CHROMIUM_PATH).');
  }
  return CHROMIUM;
}

/**
 * Headless Chromium that can only reach 127.0.0.1: every host name resolves to nothing, and puppeteer's
 * default flags turn off background networking (updates, safe browsing, metrics).
 */
export function launchBrowser(): Promise<Browser> {
  return puppeteer.launch({
    executablePath: requireChromium(),
    headless: true,
    args: [
      '--headless=new',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--no-pings',
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
      '--disable-features=Translate,OptimizationHints,MediaRouter,DialMediaRouteProvider',
    ],
  });
}

/** The page's globals the tests touch (the project's tsconfig has no DOM library). */
interface InPage {
  cspViolations: string[];
  document: {
    addEventListener(
      type: 'securitypolicyviolation',
      listener: (event: { violatedDirective: string; blockedURI: string }) => void,
    ): void;
  };
  axe: { run(): Promise<{ violations: AxeViolation[] }> };
}

export interface WatchedPage {
  page: Page;
  /** Requests the page tried to send anywhere but `origin` (aborted). */
  foreignRequests: string[];
  /** Content-Security-Policy violations the page reported. */
  cspViolations(): Promise<string[]>;
}

/** A page that may only talk to `origin` (data: and blob: URLs aside) and records CSP violations. */
export async function watchedPage(browser: Browser, origin: string): Promise<WatchedPage> {
  const page = await browser.newPage();
  const foreignRequests: string[] = [];
  await page.setRequestInterception(true);
  page.on('request', (request: HTTPRequest) => {
    const url = request.url();
    if (/^(data|blob):/.test(url) || new URL(url).origin === origin) return void request.continue();
    foreignRequests.push(url);
    void request.abort('blockedbyclient');
  });
  await page.evaluateOnNewDocument(() => {
    const seen: string[] = [];
    const inPage = globalThis as unknown as InPage;
    inPage.cspViolations = seen;
    inPage.document.addEventListener('securitypolicyviolation', (event) => {
      seen.push(`${event.violatedDirective} blocked ${event.blockedURI || 'inline'}`);
    });
  });
  return {
    page,
    foreignRequests,
    cspViolations: () => page.evaluate(() => (globalThis as unknown as InPage).cspViolations),
  };
}

/**
 * Evaluates a JavaScript expression in the page. Expressions are strings because the project compiles without
 * the DOM library, so functions over DOM nodes would not type-check.
 */
export function inPage<T>(page: Page, expression: string): Promise<T> {
  return page.evaluate(expression) as Promise<T>;
}

/** `selector`'s textContent, trimmed (null when nothing matches). */
export function textOf(page: Page, selector: string): Promise<string | null> {
  return inPage(page, `document.querySelector(${JSON.stringify(selector)})?.textContent?.trim() ?? null`);
}

/** Whether `selector` is hidden (its `hidden` property). */
export function isHidden(page: Page, selector: string): Promise<boolean> {
  return inPage(page, `document.querySelector(${JSON.stringify(selector)}).hidden`);
}

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: unknown[] }>;
}

const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/**
 * axe-core's serious and critical violations on the page as it is now. axe is evaluated through DevTools,
 * which the page's CSP does not govern, so the policy under test stays on.
 */
export async function seriousAccessibilityViolations(page: Page): Promise<string[]> {
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    return (await (globalThis as unknown as InPage).axe.run()).violations;
  });
  return violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map(
      (v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => JSON.stringify(n.target)).join(', ')}`,
    );
}
