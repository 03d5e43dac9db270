import { createReadStream } from 'node:fs';
import { mkdir, open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { problem, type ProblemError } from '@app/problem';
import { itemProblem } from '../../../jobs-engine/item-result';
import type { NewItem } from '../../../jobs-engine/job-types';
import type { ArchiveEntry, ArchiveLimits } from './archive-member';
import { judgeMemberPath } from './member-path';
import { readTar } from './tar-reader';
import { readZip } from './zip-reader';

export type ArchiveFormat = 'zip' | 'tar' | 'tar.gz';

/** The archive's format by its first bytes (never by the name or the content type a client claims). */
export async function sniffArchive(path: string): Promise<ArchiveFormat> {
  const file = await open(path, 'r');
  try {
    const head = Buffer.alloc(512);
    const { bytesRead } = await file.read(head, 0, 512, 0);
    if (bytesRead >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'tar.gz';
    if (
      bytesRead >= 4 &&
      head.readUInt16BE(0) === 0x504b &&
      [0x0304, 0x0506, 0x0708].includes(head.readUInt16BE(2))
    ) {
      return 'zip';
    }
    if (bytesRead === 512 && head.subarray(257, 262).toString('latin1') === 'ustar') return 'tar';
  } finally {
    await file.close();
  }
  throw problem(
    'archive_invalid',
    'The upload is not a tar, tar.gz or zip archive: send photos in one of those, or a JSON or JSONL list of URLs.',
  );
}

/**
 * Takes an uploaded archive in: each regular file becomes an item named by its path in the archive, written
 * under `jobDir/members/` by its index (a member's own name never reaches the file system). A member refused
 * (a symlink, a hard link, a device, `..` or an absolute path, encrypted, larger than an upload may be) is an
 * item with that problem. The whole archive is refused (4xx) when it is not an archive, is damaged, or passes a
 * limit that marks a bomb: too many members, too many bytes expanded, too high an expansion ratio.
 */
export async function takeInArchive(
  path: string,
  jobId: string,
  jobDir: string,
  limits: ArchiveLimits,
): Promise<NewItem[]> {
  const format = await sniffArchive(path);
  const membersDir = join(jobDir, 'members');
  await mkdir(membersDir, { recursive: true });
  const items: NewItem[] = [];
  const seen = new Set<string>();

  const refuse = (id: string, error: ProblemError): void => {
    items.push({ id: uniqueId(id, seen), kind: 'refused', problem: itemProblem(error, jobId, items.length) });
  };
  const sink = async (entry: ArchiveEntry, contents: () => Promise<Buffer>): Promise<void> => {
    if (entry.type === 'directory') return;
    const judged = judgeMemberPath(entry.name);
    const refusal = !judged.ok ? judged.reason : (entry.refusal ?? typeRefusal(entry.type));
    if (refusal) {
      return refuse(
        entry.name,
        problem(
          'archive_member_refused',
          `The archive member "${entry.name}" was not taken in: ${refusal}.`,
          { member: entry.name },
        ),
      );
    }
    const id = judged.ok ? judged.path : entry.name;
    if (entry.size > limits.maxMemberBytes) {
      return refuse(
        id,
        problem(
          'too_large',
          `The archive member "${id}" is larger than ${limits.maxMemberBytes} bytes, the most an uploaded photo may be.`,
          {
            limit_bytes: limits.maxMemberBytes,
            member: id,
          },
        ),
      );
    }
    const bytes = await contents();
    const file = join(membersDir, String(items.length));
    await writeFile(file, bytes, { flag: 'wx' });
    items.push({ id: uniqueId(id, seen), kind: 'file', path: file });
  };

  if (format === 'zip') {
    await readZip(path, limits, sink);
  } else if (format === 'tar') {
    await readTar(createReadStream(path), limits, sink);
  } else {
    let compressed = 0;
    const input = createReadStream(path);
    input.on('data', (chunk) => (compressed += chunk.length));
    const gunzip = createGunzip();
    input.pipe(gunzip);
    try {
      await readTar(gunzip, limits, sink, () => compressed);
    } catch (error) {
      if (
        (error as { code?: string }).code === 'Z_DATA_ERROR' ||
        (error as { errno?: number }).errno !== undefined
      ) {
        throw problem(
          'archive_invalid',
          'The gzip stream is damaged: check that the upload is a whole .tar.gz file.',
        );
      }
      throw error;
    } finally {
      input.destroy();
      gunzip.destroy();
    }
  }
  if (items.length === 0) {
    throw problem('validation_failed', 'The archive holds no files: a job needs at least one photo.');
  }
  return items;
}

function typeRefusal(type: ArchiveEntry['type']): string | undefined {
  if (type === 'symlink') return 'it is a symbolic link (only regular files are taken)';
  if (type === 'hardlink') return 'it is a hard link (only regular files are taken)';
  if (type === 'other') return 'it is not a regular file (a device, a FIFO or another special entry)';
  return undefined;
}

/** Ids are unique within a job; a path seen before gets ` (2)`, ` (3)`, ... */
function uniqueId(id: string, seen: Set<string>): string {
  let candidate = id;
  for (let n = 2; seen.has(candidate); n++) candidate = `${id} (${n})`;
  seen.add(candidate);
  return candidate;
}
