import { problem } from '@app/problem';
import type { ArchiveEntry, ArchiveLimits, EntrySink } from './archive-member';
import { RATIO_FLOOR_BYTES } from './archive-member';

const BLOCK = 512;

/** Pulls exact byte counts off a stream of chunks, counting every byte it took (the expanded size). */
class ByteReader {
  private buffered: Buffer[] = [];
  private length = 0;
  consumed = 0;

  constructor(
    private readonly chunks: AsyncIterator<Buffer>,
    private readonly onBytes: (total: number) => void,
  ) {}

  /** Exactly `n` bytes, or fewer at the end of the stream. */
  async read(n: number): Promise<Buffer> {
    while (this.length < n) {
      const next = await this.chunks.next();
      if (next.done) break;
      this.buffered.push(next.value);
      this.length += next.value.length;
      this.consumed += next.value.length;
      this.onBytes(this.consumed);
    }
    const all = this.buffered.length === 1 ? this.buffered[0] : Buffer.concat(this.buffered);
    const taken = all.subarray(0, Math.min(n, all.length));
    const rest = all.subarray(taken.length);
    this.buffered = rest.length > 0 ? [rest] : [];
    this.length = rest.length;
    return taken;
  }

  async skip(n: number): Promise<void> {
    let left = n;
    while (left > 0) {
      const piece = await this.read(Math.min(left, 1024 * 1024));
      if (piece.length === 0) throw truncated();
      left -= piece.length;
    }
  }
}

const truncated = () => problem('archive_invalid', 'The tar archive ends in the middle of a member.');

/** A header number: octal text, or GNU base-256 (high bit set) for sizes past 8 GiB. */
function headerNumber(field: Buffer): number {
  if (field[0] & 0x80) {
    let value = 0;
    for (let i = 1; i < field.length; i++) value = value * 256 + field[i];
    return value;
  }
  const text = field.toString('latin1').replace(/\0.*$/s, '').trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text))
    throw problem('archive_invalid', 'A tar header holds a number that is not octal.');
  return parseInt(text, 8);
}

const cString = (field: Buffer): string => {
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? field.length : end).toString('utf8');
};

function checksumOk(header: Buffer): boolean {
  const stored = headerNumber(header.subarray(148, 156));
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i];
  return sum === stored;
}

/** PAX records `<len> <key>=<value>\n`; only `path` and `size` matter here. */
function paxRecords(data: Buffer): Record<string, string> {
  const records: Record<string, string> = {};
  let offset = 0;
  while (offset < data.length) {
    const space = data.indexOf(0x20, offset);
    if (space === -1) break;
    const length = Number(data.subarray(offset, space).toString('latin1'));
    if (!Number.isInteger(length) || length <= 0 || offset + length > data.length) break;
    const record = data.subarray(space + 1, offset + length - 1).toString('utf8');
    const equals = record.indexOf('=');
    if (equals > 0) records[record.slice(0, equals)] = record.slice(equals + 1);
    offset += length;
  }
  return records;
}

function entryType(flag: string): ArchiveEntry['type'] {
  if (flag === '0' || flag === '\0' || flag === '7') return 'file';
  if (flag === '5') return 'directory';
  if (flag === '2') return 'symlink';
  if (flag === '1') return 'hardlink';
  return 'other';
}

/** Largest PAX or GNU long-name record read into memory. */
const MAX_META_BYTES = 1024 * 1024;

/**
 * Reads a tar stream (ustar, PAX `path`/`size`, GNU long names) entry by entry, handing each to `sink`, within
 * `limits`: more members than allowed, or more bytes expanded than allowed, or (for a compressed stream,
 * `compressedBytes` counting what was read of it) an expansion ratio past the limit, refuses the whole archive.
 */
export async function readTar(
  chunks: AsyncIterable<Buffer>,
  limits: ArchiveLimits,
  sink: EntrySink,
  compressedBytes?: () => number,
): Promise<void> {
  const reader = new ByteReader(chunks[Symbol.asyncIterator](), (expanded) => {
    if (expanded > limits.maxExpandedBytes) {
      throw problem(
        'archive_too_large',
        `The archive expands past ${limits.maxExpandedBytes} bytes (JOBS_MAX_EXPANDED_BYTES): split it into smaller archives.`,
      );
    }
    const compressed = compressedBytes?.();
    if (compressed && expanded > RATIO_FLOOR_BYTES && expanded / compressed > limits.maxCompressionRatio) {
      throw problem(
        'archive_too_large',
        `The archive expands more than ${limits.maxCompressionRatio} times its compressed size, as an archive bomb does; photos barely compress, so this is refused.`,
      );
    }
  });
  let members = 0;
  let longName: string | undefined;
  let pax: Record<string, string> = {};
  for (;;) {
    const header = await reader.read(BLOCK);
    if (header.length === 0) return; // no end-of-archive blocks: accepted, as GNU tar does with a warning
    if (header.length < BLOCK) throw truncated();
    if (header.every((byte) => byte === 0)) return;
    if (!checksumOk(header)) {
      throw problem(
        'archive_invalid',
        'A tar header has a bad checksum: the file is not a tar archive or is damaged.',
      );
    }
    const flag = String.fromCharCode(header[156]);
    let size = headerNumber(header.subarray(124, 136));
    const padded = Math.ceil(size / BLOCK) * BLOCK;
    if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') {
      if (size > MAX_META_BYTES) throw problem('archive_invalid', 'A tar extended header is too long.');
      const data = await reader.read(padded);
      if (data.length < padded) throw truncated();
      if (flag === 'x') pax = paxRecords(data.subarray(0, size));
      if (flag === 'L') longName = cString(data.subarray(0, size));
      continue;
    }
    if (++members > limits.maxMembers) {
      throw problem(
        'archive_too_large',
        `The archive holds more than ${limits.maxMembers} members (JOBS_MAX_ARCHIVE_MEMBERS): split it into smaller archives.`,
      );
    }
    const magic = header.subarray(257, 263).toString('latin1');
    const prefix = magic.startsWith('ustar') ? cString(header.subarray(345, 500)) : '';
    const baseName = cString(header.subarray(0, 100));
    const name = pax.path ?? longName ?? (prefix ? `${prefix}/${baseName}` : baseName);
    if (pax.size !== undefined && /^\d+$/.test(pax.size)) size = Number(pax.size);
    const dataBytes = Math.ceil(size / BLOCK) * BLOCK;
    longName = undefined;
    pax = {};
    const type = entryType(flag);
    let read = false;
    await sink({ name, type, size }, async () => {
      read = true;
      const data = await reader.read(dataBytes);
      if (data.length < dataBytes) throw truncated();
      return data.subarray(0, size);
    });
    if (!read) await reader.skip(dataBytes);
  }
}
