/**
 * A load generator or probe in its own process (started by clients.ts): a client on another machine would
 * not share the server's event loop, and a probe must not wait behind the load generator's. Reads one job
 * (JSON) from argv, prepares its request bodies, prints `ready`, starts on the first line from stdin, and
 * prints the LoadResult as JSON.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { foodPhotos } from '../../test/support/shared-data';
import { jsonBody, multipartUpload, postLoad, probeLoad, type LoadResult, type RequestBody } from './load';

export type ClientJob =
  | {
      kind: 'post';
      url: string;
      connections: number;
      duration?: number;
      amount?: number;
      /** The food photos as multipart uploads, as raw bodies, or JSON bodies naming these URLs. */
      bodies: 'uploads' | 'raw' | { urls: string[] };
    }
  | { kind: 'probe'; url: string; duration: number };

function bodiesFor(spec: Extract<ClientJob, { kind: 'post' }>['bodies']): RequestBody[] {
  const photos = foodPhotos();
  if (spec === 'uploads') return photos.map((photo) => multipartUpload(photo.file, readFileSync(photo.path)));
  if (spec === 'raw') {
    return photos.map((photo) => ({
      headers: { 'content-type': 'image/jpeg' },
      body: readFileSync(photo.path),
    }));
  }
  return spec.urls.map((url) => jsonBody({ url }));
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2]) as ClientJob;
  const run: () => Promise<LoadResult> =
    job.kind === 'probe'
      ? () => probeLoad(job.url, job.duration)
      : (
          (bodies) => () =>
            postLoad({ ...job, bodies })
        )(bodiesFor(job.bodies));
  process.stdout.write('ready\n');
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    if (line.trim() !== 'go') continue;
    lines.close();
    process.stdout.write(`${JSON.stringify(await run())}\n`);
    return;
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
