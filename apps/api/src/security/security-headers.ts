import { createHash } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import helmet from 'helmet';

/** The JSON API renders nothing and is framed by nobody. */
export const API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/** /demo: its own script, style and API, photos shown from blob: URLs made in the page; nothing else. */
export const DEMO_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** /monitor: its own script and style, and GET /v1/monitoring; the charts are SVG drawn by the script. */
export const MONITOR_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Swagger UI's top bar logo (swagger-ui-standalone-preset.js) is an SVG that carries this `<style>`. */
const SWAGGER_UI_LOGO_STYLE = '.logo_small_svg__cls-2{fill:#fff}.logo_small_svg__cls-3{fill:#85ea2d}';

const styleHash = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/**
 * /docs (Swagger UI): scripts and styles from its own files; the inline styles of its page (`html`, hashed
 * by `inlineStyleHashes`) and of its logo are allowed by hash only, icons are data: URIs in its CSS, and
 * "Try it out" calls this origin.
 */
export function docsCsp(html = ''): string {
  const hashes = [...new Set([...inlineStyleHashes(html), styleHash(SWAGGER_UI_LOGO_STYLE)])];
  return [
    "default-src 'none'",
    "script-src 'self'",
    `style-src 'self' 'unsafe-hashes' ${hashes.join(' ')}`,
    "img-src 'self' data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** CSP hash sources for every `<style>` element and `style="..."` attribute of an HTML page. */
export function inlineStyleHashes(html: string): string[] {
  const blocks = [...html.matchAll(/<style[^>]*>([\s\S]*?)<\/style>/gi)].map((match) => match[1]);
  const attributes = [...html.matchAll(/\sstyle="([^"]*)"/gi)].map((match) => match[1]);
  return [...new Set([...blocks, ...attributes].map(styleHash))];
}

function isUnder(path: string, prefix: string): boolean {
  return path === prefix || path.startsWith(`${prefix}/`) || path.startsWith(`${prefix}-`);
}

/**
 * Swagger UI's HTML is built by @nestjs/swagger: hash its inline styles as it is sent, so the policy allows
 * exactly those and no others.
 */
function hashInlineStylesOnSend(response: Response): void {
  const send = response.send.bind(response);
  response.send = (body?: unknown) => {
    if (typeof body === 'string' && /^text\/html/.test(String(response.get('content-type') ?? ''))) {
      response.setHeader('Content-Security-Policy', docsCsp(body));
    }
    return send(body);
  };
}

/**
 * Security headers on every response (helmet, pinned): nosniff, `Referrer-Policy: no-referrer`, no framing,
 * same-origin opener and resource policies, HSTS (ignored by browsers over plain HTTP), no X-Powered-By; and
 * a Content-Security-Policy per kind of route: the pages /demo, /monitor and /docs get what they need, the rest
 * `default-src 'none'`.
 */
export function securityHeaders(): RequestHandler {
  const common = helmet({
    contentSecurityPolicy: false,
    xFrameOptions: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    // The operator's other subdomains are theirs to decide.
    strictTransportSecurity: { maxAge: 31_536_000, includeSubDomains: false },
  });
  return (request: Request, response: Response, next: NextFunction) => {
    common(request, response, (error?: unknown) => {
      if (error) return next(error);
      if (isUnder(request.path, '/demo')) {
        response.setHeader('Content-Security-Policy', DEMO_CSP);
      } else if (isUnder(request.path, '/monitor')) {
        response.setHeader('Content-Security-Policy', MONITOR_CSP);
      } else if (isUnder(request.path, '/docs')) {
        response.setHeader('Content-Security-Policy', docsCsp());
        hashInlineStylesOnSend(response);
      } else {
        response.setHeader('Content-Security-Policy', API_CSP);
      }
      next();
    });
  };
}
