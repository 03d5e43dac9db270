import { problem } from '@app/problem';

const DATA_URL_PREFIX = /^data:[\w.+-]+\/[\w.+-]+;base64,/i;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const BASE64_URL = /^[A-Za-z0-9_-]*={0,2}$/;

/** Decodes standard or URL-safe base64 (optionally a `data:` URL), refusing anything else instead of guessing. */
export function decodeBase64Image(text: string, maxBytes: number): Buffer {
  const body = text.replace(DATA_URL_PREFIX, '').replace(/\s+/g, '');
  if (body.length === 0)
    throw problem('invalid_base64', 'The image field is empty: send the image bytes in base64.');
  if (body.length % 4 === 1 || !(BASE64.test(body) || BASE64_URL.test(body))) {
    throw problem(
      'invalid_base64',
      'The image field is not valid base64: encode the image file bytes with base64.',
    );
  }
  if (Math.floor((body.length * 3) / 4) > maxBytes + 2) {
    throw problem('too_large', `The image is larger than ${maxBytes} bytes; send a smaller image.`, {
      limit_bytes: maxBytes,
    });
  }
  const bytes = Buffer.from(body, BASE64.test(body) ? 'base64' : 'base64url');
  if (bytes.length > maxBytes) {
    throw problem('too_large', `The image is larger than ${maxBytes} bytes; send a smaller image.`, {
      limit_bytes: maxBytes,
    });
  }
  return bytes;
}
