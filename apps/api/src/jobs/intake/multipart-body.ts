import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { pipeline } from 'node:stream/promises';
import busboy from 'busboy';
import type { Request } from 'express';
import { problem, type ProblemError } from '@app/problem';
import type { BodyFile } from './body-file';

/** The file field names a form may use for the job's archive or JSONL list. */
const FILE_FIELDS = new Set(['archive', 'file', 'items']);

export interface MultipartJob {
  fields: Record<string, string>;
  file: BodyFile & { filename: string; mimeType: string };
}

/**
 * A `multipart/form-data` job (`curl -F archive=@photos.zip -F top_k=3`): the form's text fields are the options,
 * its one file (field `archive`, `file` or `items`) is streamed to `path`, at most `maxBytes`
 * (JOBS_MAX_ARCHIVE_BYTES, else 413 `payload_too_large`).
 */
export async function readMultipart(request: Request, path: string, maxBytes: number): Promise<MultipartJob> {
  if (Number(request.headers['content-length']) > maxBytes) throw tooLarge(maxBytes);
  await mkdir(dirname(path), { recursive: true });
  const fields: Record<string, string> = {};
  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers: request.headers,
      limits: { files: 1, fields: 16, fieldSize: 4096, fileSize: maxBytes },
    });
  } catch {
    throw problem('validation_failed', 'The multipart body has no boundary: send it as a form (curl -F).');
  }
  let file: Promise<MultipartJob['file']> | undefined;
  let failure: ProblemError | undefined;
  parser.on('field', (name, value) => (fields[name] = value));
  parser.on('file', (name, stream, info) => {
    if (!FILE_FIELDS.has(name) || file) {
      failure ??= problem(
        'validation_failed',
        `The form's file field is \`${name}\`: send the archive or the JSONL list as \`archive\`.`,
        { errors: [{ field: name, message: 'unexpected file field' }] },
      );
      stream.resume();
      return;
    }
    const hash = createHash('sha256');
    let bytes = 0;
    stream.on('limit', () => (failure ??= tooLarge(maxBytes)));
    file = pipeline(
      stream,
      async function* (chunks: AsyncIterable<Buffer>) {
        for await (const chunk of chunks) {
          bytes += chunk.length;
          hash.update(chunk);
          yield chunk;
        }
      },
      createWriteStream(path, { flags: 'wx' }),
    ).then(() => ({
      path,
      bytes,
      sha256: hash.digest('hex'),
      filename: info.filename,
      mimeType: info.mimeType,
    }));
  });
  parser.on('filesLimit', () => (failure ??= problem('validation_failed', 'Send one file per job.')));
  const finished = new Promise<void>((resolve, reject) => {
    parser.on('close', resolve);
    parser.on('error', () =>
      reject(problem('validation_failed', 'The multipart body is malformed: send it as a form (curl -F).')),
    );
  });
  request.pipe(parser);
  await finished;
  const written = file ? await file : undefined;
  if (failure) throw failure;
  if (!written || written.bytes === 0) {
    throw problem(
      'validation_failed',
      'The form has no file: send the archive or the JSONL list as `archive`.',
      {
        errors: [{ field: 'archive', message: 'archive is required' }],
      },
    );
  }
  return { fields, file: written };
}

const tooLarge = (maxBytes: number) =>
  problem(
    'payload_too_large',
    `The upload is larger than ${maxBytes} bytes (JOBS_MAX_ARCHIVE_BYTES): split the photos into several jobs.`,
    { limit_bytes: maxBytes },
  );
