import type { OpenAPIObject } from '@nestjs/swagger';

/**
 * The seed declared its route with a trailing slash (FastAPI's `@app.post("/net/image/prediction/")`). Nest writes
 * paths without one, although Express serves both, and a contract proxy such as Prism would then answer 404 for
 * the seed's own path; the document lists it as the seed declared it.
 */
const SEED_PATHS: Record<string, string> = { '/net/image/prediction': '/net/image/prediction/' };

export function applySeedPaths(document: OpenAPIObject): OpenAPIObject {
  document.paths = Object.fromEntries(
    Object.entries(document.paths).map(([path, item]) => [SEED_PATHS[path] ?? path, item]),
  );
  return document;
}
