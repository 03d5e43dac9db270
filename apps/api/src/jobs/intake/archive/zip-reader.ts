import { problem } from '@app/problem';
import yauzl from 'yauzl';
import type { ArchiveEntry, ArchiveLimits, EntrySink } from './archive-member';
import { RATIO_FLOOR_BYTES } from './archive-member';

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
/** Entries made on Unix carry its file mode in the high 16 bits of the external attributes. */
const MADE_ON_UNIX = 3;

function entryType(entry: yauzl.Entry, name: string): ArchiveEntry['type'] {
  const mode = (entry.externalFileAttributes >>> 16) & S_IFMT;
  if (entry.versionMadeBy >> 8 === MADE_ON_UNIX && mode !== 0) {
    if (mode === S_IFLNK) return 'symlink';
    if (mode === S_IFDIR) return 'directory';
    if (mode !== S_IFREG) return 'other';
  }
  return name.endsWith('/') ? 'directory' : 'file';
}

const invalid = (error: unknown) =>
  problem(
    'archive_invalid',
    `The zip archive cannot be read (${error instanceof Error ? error.message : String(error)}): check that it is a whole, unencrypted zip file.`,
  );

/**
 * Reads a zip file with yauzl (the central directory, each member's local header, inflate), checking the
 * central directory's claims before anything is inflated: member count, total declared size, each member's
 * expansion ratio. yauzl then holds every member to its declared size while inflating it, so a member that lies
 * about its size is an error, never more bytes. Names are decoded here (yauzl's own check would refuse the whole
 * archive for one bad name; the intake refuses that member alone).
 */
export async function readZip(path: string, limits: ArchiveLimits, sink: EntrySink): Promise<void> {
  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.openPromise(path, { decodeStrings: false, validateEntrySizes: true, autoClose: false });
  } catch (error) {
    throw invalid(error);
  }
  try {
    if (zip.entryCount > limits.maxMembers) {
      throw problem(
        'archive_too_large',
        `The archive holds ${zip.entryCount} members, more than ${limits.maxMembers} (JOBS_MAX_ARCHIVE_MEMBERS): split it into smaller archives.`,
      );
    }
    let declared = 0;
    const iterator = zip.eachEntry();
    for (;;) {
      let next: IteratorResult<yauzl.Entry>;
      try {
        next = await iterator.next();
      } catch (error) {
        throw invalid(error);
      }
      if (next.done) return;
      const entry = next.value;
      const name = yauzl.getFileNameLowLevel(
        entry.generalPurposeBitFlag,
        entry.fileNameRaw ?? (entry.fileName as unknown as Buffer),
        entry.extraFields,
        false,
      );
      declared += entry.uncompressedSize;
      if (declared > limits.maxExpandedBytes) {
        throw problem(
          'archive_too_large',
          `The archive expands past ${limits.maxExpandedBytes} bytes (JOBS_MAX_EXPANDED_BYTES): split it into smaller archives.`,
        );
      }
      if (
        entry.uncompressedSize > RATIO_FLOOR_BYTES / 16 &&
        entry.uncompressedSize / Math.max(1, entry.compressedSize) > limits.maxCompressionRatio
      ) {
        throw problem(
          'archive_too_large',
          `The member "${name}" expands more than ${limits.maxCompressionRatio} times its compressed size, as an archive bomb does; photos barely compress, so the archive is refused.`,
        );
      }
      const type = entryType(entry, name);
      await sink(
        {
          name,
          type,
          size: entry.uncompressedSize,
          ...(entry.isEncrypted() ? { refusal: 'it is encrypted' } : {}),
        },
        async () => {
          try {
            const stream = await zip.openReadStreamPromise(entry);
            const chunks: Buffer[] = [];
            for await (const chunk of stream) chunks.push(chunk as Buffer);
            return Buffer.concat(chunks);
          } catch (error) {
            throw invalid(error);
          }
        },
      );
    }
  } finally {
    zip.close();
  }
}
