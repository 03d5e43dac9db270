import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export interface DownloadProgress {
  received: number;
  /** From Content-Length (or the manifest's size); undefined when neither is known. */
  total?: number;
}

export interface DownloadOptions {
  /** Bytes the file must have (manifest `size`): more is refused as soon as it arrives. */
  expectedSize?: number;
  /** Largest download accepted when the size is not pinned. */
  maxBytes: number;
  /** Give up when the server has not answered, or sent nothing, for this long. */
  idleTimeoutMs: number;
  onProgress?: (progress: DownloadProgress) => void;
  fetch?: typeof fetch;
}

export class DownloadError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DownloadError';
  }
}

/**
 * Streams `url` into `destination` (a temporary name the caller renames after verifying it). Refuses a
 * non-2xx answer, a body longer than allowed, and a body shorter than its Content-Length (a cut
 * connection); removes the partial file on any failure.
 */
export async function download(url: string, destination: string, options: DownloadOptions): Promise<number> {
  const parsed = new URL(url);
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new DownloadError(`${url} is not an http(s) URL.`);
  }
  const controller = new AbortController();
  let idle: NodeJS.Timeout | undefined;
  const touch = () => {
    clearTimeout(idle);
    idle = setTimeout(
      () => controller.abort(new DownloadError(`${url} sent nothing for ${options.idleTimeoutMs} ms.`)),
      options.idleTimeoutMs,
    );
  };
  touch();
  try {
    const response = await (options.fetch ?? fetch)(url, { signal: controller.signal, redirect: 'follow' });
    if (!response.ok || !response.body) throw new DownloadError(`${url} answered HTTP ${response.status}.`);
    const header = Number(response.headers.get('content-length'));
    const announced =
      Number.isSafeInteger(header) && header >= 0 && response.headers.has('content-length')
        ? header
        : undefined;
    const limit = options.expectedSize ?? options.maxBytes;
    if (announced !== undefined && announced > limit) {
      throw new DownloadError(`${url} announces ${announced} bytes, more than the ${limit} expected.`);
    }
    const total = options.expectedSize ?? announced;
    let received = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        received += chunk.length;
        touch();
        if (received > limit) {
          callback(new DownloadError(`${url} sent more than the ${limit} bytes expected.`));
          return;
        }
        options.onProgress?.({ received, total });
        callback(null, chunk);
      },
    });
    await pipeline(Readable.fromWeb(response.body), counter, createWriteStream(destination));
    if (announced !== undefined && received !== announced) {
      throw new DownloadError(
        `${url} ended after ${received} of ${announced} bytes: the download was cut short.`,
      );
    }
    return received;
  } catch (error) {
    await rm(destination, { force: true });
    if (error instanceof DownloadError) throw error;
    const reason =
      controller.signal.reason instanceof DownloadError
        ? controller.signal.reason.message
        : (error as Error).message;
    throw new DownloadError(`Downloading ${url} failed: ${reason}`, { cause: error });
  } finally {
    clearTimeout(idle);
  }
}
