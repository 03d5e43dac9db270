import type { CorsOptions } from '@nestjs/common/interfaces/external/cors-options.interface';

/**
 * CORS from CORS_ORIGINS. `*` (anywhere in the list) lets any page read the API, but never with the
 * visitor's cookies or HTTP auth: `Access-Control-Allow-Origin: *` and no `Access-Control-Allow-Credentials`,
 * so an API behind a cookie-based auth proxy cannot be read by a foreign site with the visitor's session.
 * Credentials are allowed only for origins listed one by one; any other origin gets no CORS headers at all.
 */
export function corsPolicy(origins: readonly string[]): CorsOptions {
  if (origins.includes('*')) return { origin: '*' };
  return { origin: [...origins], credentials: true };
}
