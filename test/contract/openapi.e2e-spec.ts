import SwaggerParser from '@apidevtools/swagger-parser';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE_MODELS } from '../support/shared-data';
import { startTestApp, type RunningApp } from '../support/test-app';

const OPENAPI_DIR = join(__dirname, '..', '..', 'openapi');
const committedJson = (): Record<string, unknown> =>
  JSON.parse(readFileSync(join(OPENAPI_DIR, 'openapi.json'), 'utf8')) as Record<string, unknown>;

describe('the committed OpenAPI document', () => {
  let running: RunningApp;

  beforeAll(async () => {
    running = await startTestApp(FIXTURE_MODELS.food101Tflite, {}, { waitForModel: false });
  });

  afterAll(async () => {
    await running?.close();
  });

  it('is exactly what the running app serves at /docs-json (run `npm run openapi` after API changes)', async () => {
    const response = await fetch(`${running.baseUrl}/docs-json`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual(committedJson());
  });

  it('has a YAML twin with the same content', () => {
    expect(parse(readFileSync(join(OPENAPI_DIR, 'openapi.yaml'), 'utf8'))).toEqual(committedJson());
  });

  it('is a valid OpenAPI 3 document', async () => {
    await expect(SwaggerParser.validate(structuredClone(committedJson()) as never)).resolves.toBeDefined();
  });

  it('serves the Swagger UI at /docs', async () => {
    const response = await fetch(`${running.baseUrl}/docs`);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('swagger');
  });

  it('documents every route the app serves, with an operationId and a problem response for each error', () => {
    const document = committedJson() as {
      paths: Record<
        string,
        Record<
          string,
          { operationId?: string; responses: Record<string, { content?: Record<string, unknown> }> }
        >
      >;
    };
    const operations = Object.entries(document.paths).flatMap(([path, item]) =>
      Object.entries(item).map(([method, operation]) => ({ path, method, operation })),
    );
    // Express serves `/a/` for a route `/a` (non-strict routing), so a documented trailing slash is the same route.
    const documented = operations
      .map(({ method, path }) => `${method.toUpperCase()} ${path.replace(/(.)\/$/, '$1')}`)
      .sort();
    expect(documented).toEqual(servedRoutes(running).sort());
    for (const { path, operation } of operations) {
      expect(operation.operationId).toMatch(/^[a-z][A-Za-z0-9]+$/);
      // The Open Inference Protocol (/v2) has its own error object, `{"error": "..."}` as application/json.
      const errorType = /^\/v2(\/|$)/.test(path) ? 'application/json' : 'application/problem+json';
      for (const [status, response] of Object.entries(operation.responses)) {
        if (Number(status) >= 400) expect(Object.keys(response.content ?? {})).toEqual([errorType]);
      }
    }
  });
});

interface RouterLayer {
  route?: { path: string; methods: Record<string, boolean> };
}

/**
 * Every route registered on the Express router, as `METHOD /openapi/{style}` (Swagger UI's own routes and the
 * scripts and stylesheets of /demo and /monitor excluded).
 */
function servedRoutes({ app }: RunningApp): string[] {
  const router = (app.getHttpAdapter().getInstance() as { router: { stack: RouterLayer[] } }).router;
  return router.stack
    .filter((layer) => layer.route && !/^\/(docs|demo\/|monitor\/)/.test(layer.route.path))
    .flatMap((layer) =>
      Object.keys(layer.route!.methods).map(
        (method) =>
          `${method.toUpperCase()} ${layer.route!.path.replace(/:(\w+)/g, '{$1}').replace(/(.)\/$/, '$1')}`,
      ),
    );
}
