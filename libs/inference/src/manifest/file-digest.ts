import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';

export interface FileDigest {
  size: number;
  sha256: string;
  gitBlobSha1: string;
}

/** sha256 and git blob id of a file, streamed so that large weights are not read into memory at once. */
export async function digestFile(path: string): Promise<FileDigest> {
  const { size } = await stat(path);
  const sha256 = createHash('sha256');
  const gitBlob = createHash('sha1').update(`blob ${size}\0`);
  for await (const chunk of createReadStream(path)) {
    sha256.update(chunk as Buffer);
    gitBlob.update(chunk as Buffer);
  }
  return { size, sha256: sha256.digest('hex'), gitBlobSha1: gitBlob.digest('hex') };
}
