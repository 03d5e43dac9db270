import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Request } from 'express';
import { problem } from '@app/problem';

/** An uploaded body on disk: its path, size and SHA-256 (the job's fingerprint for its idempotency key). */
export interface BodyFile {
  path: string;
  bytes: number;
  sha256: string;
}

/**
 * Streams the request body to `path`, at most `maxBytes` (JOBS_MAX_ARCHIVE_BYTES): past it the upload stops with
 * 413 `payload_too_large`. A declared Content-Length over the limit is refused before a byte is read.
 */
export async function writeBodyToFile(request: Request, path: string, maxBytes: number): Promise<BodyFile> {
  const tooLarge = () =>
    problem(
      'payload_too_large',
      `The upload is larger than ${maxBytes} bytes (JOBS_MAX_ARCHIVE_BYTES): split the photos into several jobs.`,
      { limit_bytes: maxBytes },
    );
  if (Number(request.headers['content-length']) > maxBytes) throw tooLarge();
  await mkdir(dirname(path), { recursive: true });
  const hash = createHash('sha256');
  let bytes = 0;
  // Not destroyed when the limit stops the read: the rest of the body is read off the wire after the 413
  // (lingering close), so the client gets the answer rather than a reset.
  const chunks = request.iterator({ destroyOnReturn: false });
  await pipeline(
    async function* () {
      for await (const chunk of chunks) {
        const buffer = chunk as Buffer;
        bytes += buffer.length;
        if (bytes > maxBytes) throw tooLarge();
        hash.update(buffer);
        yield buffer;
      }
    },
    createWriteStream(path, { flags: 'wx' }),
  );
  if (bytes === 0)
    throw problem('validation_failed', 'The request body is empty: send the list or the archive.');
  return { path, bytes, sha256: hash.digest('hex') };
}
