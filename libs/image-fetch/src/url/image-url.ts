import { problem } from '@app/problem';

const MAX_URL_LENGTH = 2048;

/**
 * Parses a client-supplied image URL with the WHATWG parser, which canonicalises odd IPv4 spellings
 * (`2130706433`, `0177.0.0.1`, `0x7f.1`, `127.1`) to dotted quads before any check looks at the host.
 */
export function parseImageUrl(raw: string): URL {
  if (typeof raw !== 'string' || raw.trim() === '') {
    throw problem('invalid_url', 'The image URL is empty: send an absolute http(s) URL of an image.');
  }
  if (raw.length > MAX_URL_LENGTH) {
    throw problem('invalid_url', `The image URL is longer than ${MAX_URL_LENGTH} characters.`);
  }
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw problem(
      'invalid_url',
      'The image URL is not an absolute URL: send e.g. https://example.com/dish.jpg.',
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw problem(
      'url_scheme_not_allowed',
      `The image URL uses ${url.protocol.replace(/:$/, '')}; only http and https URLs are fetched.`,
    );
  }
  if (url.username || url.password) {
    throw problem(
      'url_credentials_not_allowed',
      'The image URL contains a user name or password; send a URL without credentials.',
    );
  }
  if (!url.hostname) throw problem('invalid_url', 'The image URL has no host.');
  return url;
}

export function effectivePort(url: URL): number {
  if (url.port) return Number(url.port);
  return url.protocol === 'https:' ? 443 : 80;
}
