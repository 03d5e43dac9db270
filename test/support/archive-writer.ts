import { crc32, deflateRawSync } from 'node:zlib';

/**
 * Writers for test archives, byte by byte, so that a test can make what no well-behaved tool would: `..` and
 * absolute paths, links, lying sizes, bombs.
 */

export interface TarMember {
  name: string;
  data?: Buffer;
  /** `0` file (default), `2` symlink, `1` hard link, `5` directory, `3` character device. */
  type?: '0' | '1' | '2' | '3' | '5';
  linkName?: string;
}

function octal(value: number, length: number): string {
  return value.toString(8).padStart(length - 1, '0') + '\0';
}

function tarHeader(name: string, size: number, type: string, linkName = ''): Buffer {
  const header = Buffer.alloc(512, 0);
  header.write(name.slice(0, 100), 0, 'utf8');
  header.write(octal(0o644, 8), 100, 'latin1');
  header.write(octal(0, 8), 108, 'latin1');
  header.write(octal(0, 8), 116, 'latin1');
  header.write(octal(size, 12), 124, 'latin1');
  header.write(octal(1_700_000_000, 12), 136, 'latin1');
  header.write('        ', 148, 'latin1');
  header.write(type, 156, 'latin1');
  header.write(linkName.slice(0, 100), 157, 'utf8');
  header.write('ustar\0', 257, 'latin1');
  header.write('00', 263, 'latin1');
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(octal(sum, 7) + ' ', 148, 'latin1');
  return header;
}

/** A ustar archive; names longer than 100 bytes get a PAX `path` record. */
export function tarArchive(members: TarMember[]): Buffer {
  const blocks: Buffer[] = [];
  const pad = (length: number) => Buffer.alloc((512 - (length % 512)) % 512, 0);
  for (const member of members) {
    const data = member.data ?? Buffer.alloc(0);
    if (Buffer.byteLength(member.name) > 100) {
      const record = ` path=${member.name}\n`;
      let length = record.length + 2;
      while (`${length}${record}`.length !== length) length++;
      const pax = Buffer.from(`${length}${record}`, 'utf8');
      blocks.push(tarHeader('PaxHeader', pax.length, 'x'), pax, pad(pax.length));
    }
    blocks.push(
      tarHeader(
        member.name,
        member.type === '0' || member.type === undefined ? data.length : 0,
        member.type ?? '0',
        member.linkName,
      ),
    );
    if (member.type === '0' || member.type === undefined) blocks.push(data, pad(data.length));
  }
  blocks.push(Buffer.alloc(1024, 0));
  return Buffer.concat(blocks);
}

export interface ZipMember {
  name: string;
  data: Buffer;
  /** Unix mode in the external attributes (e.g. 0o120777 for a symlink). */
  unixMode?: number;
  /** Deflate the data (default); false stores it. */
  deflate?: boolean;
}

/** A zip archive (no ZIP64), made on "Unix" so the mode bits count. */
export function zipArchive(members: ZipMember[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const member of members) {
    const name = Buffer.from(member.name, 'utf8');
    const deflate = member.deflate ?? true;
    const body = deflate ? deflateRawSync(member.data) : member.data;
    const crc = crc32(member.data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6);
    local.writeUInt16LE(deflate ? 8 : 0, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(member.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    locals.push(local, name, body);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(deflate ? 8 : 0, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(member.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(((member.unixMode ?? 0o100644) << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);
    offset += local.length + name.length + body.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(members.length, 8);
  end.writeUInt16LE(members.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}
