import { createHash } from 'node:crypto';
import type { ImageSource } from '@app/image-fetch';

/** The header a client pins its requests to one version with during a canary (a user id, a session). */
export const ROUTING_KEY_HEADER = 'x-routing-key';

/**
 * A request's canary routing key when the client sent none: the image itself, so a retry of the same photo meets
 * the same version. Uploaded and base64 images are hashed; a URL's content is not known before the version is
 * chosen (the version is chosen first, so an unknown model is refused before anything is downloaded), so the URL
 * stands for it. Computed only while a canary runs.
 */
export function routingKeyOf(source: ImageSource): string {
  switch (source.kind) {
    case 'url':
      return `url:${source.url}`;
    case 'base64':
      return createHash('sha256').update(source.base64).digest('hex');
    case 'bytes':
      return createHash('sha256').update(source.bytes).digest('hex');
  }
}

/** A safe client routing key: 1 to 256 visible characters, else none. */
export function clientRoutingKey(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  return value !== undefined && /^[\x21-\x7e]{1,256}$/.test(value) ? value : undefined;
}
