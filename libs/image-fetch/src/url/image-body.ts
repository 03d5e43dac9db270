import type { IncomingMessage } from 'node:http';
import { problem, type ProblemError } from '@app/problem';
import { SNIFF_BYTES, sniffImageFormat } from '@app/imaging';

/** Generic binary types that object stores (S3 `binary/octet-stream`) send for images they know nothing about. */
const GENERIC_BINARY = new Set(['application/octet-stream', 'binary/octet-stream']);
const SUPPORTED = 'a JPEG, PNG, WebP, GIF or BMP image';

/**
 * Refuses a response whose declared type is plainly not an image (HTML error pages, JSON, SVG) before a
 * byte of it is read. Absent and generic binary types pass: the bytes are sniffed anyway.
 */
export function checkDeclaredContentType(contentType: string | undefined): void {
  if (!contentType) return;
  const mediaType = contentType.split(';')[0].trim().toLowerCase();
  if (GENERIC_BINARY.has(mediaType)) return;
  if (mediaType === 'image/svg+xml') {
    throw problem('upstream_not_image', `The image URL returned an SVG drawing; send a URL of ${SUPPORTED}.`);
  }
  if (mediaType.startsWith('image/')) return;
  const shown = /^[\w.+-]+\/[\w.+-]+$/.test(mediaType) ? `"${mediaType}"` : 'content';
  throw problem(
    'upstream_not_image',
    `The image URL returned ${shown}, not an image; send a URL of ${SUPPORTED}.`,
  );
}

export interface BodyLimits {
  maxBytes: number;
  /** Aborts the read (total deadline or client gone); `onAbort` says which problem to report. */
  signal: AbortSignal;
  onAbort: () => ProblemError;
  onBroken: () => ProblemError;
}

/**
 * Reads an image body under a byte limit. A declared Content-Length over the limit is refused before
 * reading; otherwise reading stops as soon as the limit would be passed (the socket is destroyed, nothing
 * more is buffered), and as soon as the first bytes show the body is not an image.
 */
export function readImageBody(response: IncomingMessage, limits: BodyLimits): Promise<Buffer> {
  const { maxBytes, signal } = limits;
  const declared = Number(response.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    response.destroy();
    return Promise.reject(tooLarge(maxBytes));
  }
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let sniffed = false;
    let settled = false;
    const settle = (error: ProblemError | undefined, body?: Buffer): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      if (error) {
        response.destroy();
        reject(error);
      } else {
        resolve(body!);
      }
    };
    const onAbort = (): void => settle(limits.onAbort());
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });

    response.on('data', (chunk: Buffer) => {
      if (settled) return;
      received += chunk.length;
      if (received > maxBytes) return settle(tooLarge(maxBytes));
      chunks.push(chunk);
      if (!sniffed && received >= SNIFF_BYTES) {
        sniffed = true;
        if (!sniffImageFormat(Buffer.concat(chunks))) settle(notImage(response.headers['content-type']));
      }
    });
    response.on('end', () => {
      const body = Buffer.concat(chunks);
      settle(sniffImageFormat(body) ? undefined : notImage(response.headers['content-type']), body);
    });
    response.on('error', () => settle(signal.aborted ? limits.onAbort() : limits.onBroken()));
    response.on('close', () => {
      if (!response.complete) settle(signal.aborted ? limits.onAbort() : limits.onBroken());
    });
  });
}

function notImage(contentType: string | string[] | undefined): ProblemError {
  const declared = typeof contentType === 'string' ? contentType.split(';')[0].trim().toLowerCase() : '';
  const claim = /^image\/[\w.+-]+$/.test(declared) ? ` although it was labelled ${declared}` : '';
  return problem(
    'upstream_not_image',
    `The image URL did not return ${SUPPORTED}${claim}; send a URL of an image file.`,
  );
}

export function tooLarge(limit: number): ProblemError {
  return problem('too_large', `The image is larger than ${limit} bytes; send a smaller image.`, {
    limit_bytes: limit,
  });
}
