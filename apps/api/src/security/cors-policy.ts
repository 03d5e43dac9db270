import type {
  CorsOptions,
  CorsOptionsDelegate,
} from '@nestjs/common/interfaces/external/cors-options.interface';
import type { Request } from 'express';

/**
 * CORS from CORS_ORIGINS. `*` (anywhere in the list) lets any page read the API, but never with the
 * visitor's cookies or HTTP auth: `Access-Control-Allow-Origin: *` and no `Access-Control-Allow-Credentials`,
 * so an API behind a cookie-based auth proxy cannot be read by a foreign site with the visitor's session.
 * Credentials are allowed only for origins listed one by one, each echoed back; any other origin gets no CORS
 * header at all.
 */
export function corsPolicy(origins: readonly string[]): CorsOptions | CorsOptionsDelegate<Request> {
  if (origins.includes('*')) return { origin: '*' };
  const allowed = new Set(origins);
  return (request, callback) => {
    // The answer depends on Origin whether or not it is allowed, so caches must key on it either way.
    request.res?.vary('Origin');
    const origin = request.headers.origin;
    callback(null, origin && allowed.has(origin) ? { origin, credentials: true } : { origin: false });
  };
}
