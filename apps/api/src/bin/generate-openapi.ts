/**
 * Writes the OpenAPI document generated from the controllers and DTOs to openapi/openapi.json and .yaml.
 * `npm run openapi` after changing the API; test/contract/openapi.e2e-spec.ts fails while the committed files differ.
 * It runs compiled by `nest build` (tsx/esbuild emit no decorator metadata, which Nest's DI needs).
 */
import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { stringify } from 'yaml';
import { createApp } from '../app.factory';
import { buildOpenApiDocument } from '../openapi/openapi-document';

const OUT_DIR = resolve(process.argv[2] ?? 'openapi');

async function main(): Promise<void> {
  // The document does not depend on the model; the app is built but never listens or loads it.
  const app = await createApp({}, { logger: false });
  const document = buildOpenApiDocument(app);
  await app.close();
  writeFileSync(resolve(OUT_DIR, 'openapi.json'), `${JSON.stringify(document, null, 2)}\n`);
  writeFileSync(resolve(OUT_DIR, 'openapi.yaml'), stringify(document, { aliasDuplicateObjects: false }));
  process.stdout.write(
    `Wrote ${resolve(OUT_DIR, 'openapi.json')} and openapi.yaml (${Object.keys(document.paths).length} paths)\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
