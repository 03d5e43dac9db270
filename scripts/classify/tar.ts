/** A ustar archive of the given files (PAX `path` records for names past 100 bytes), for a job's upload. */
export function tarOf(members: Array<{ name: string; data: Buffer }>): Buffer {
  const blocks: Buffer[] = [];
  const pad = (length: number) => Buffer.alloc((512 - (length % 512)) % 512, 0);
  for (const { name, data } of members) {
    if (Buffer.byteLength(name) > 100) {
      const record = ` path=${name}\n`;
      let length = Buffer.byteLength(record) + 1;
      while (Buffer.byteLength(`${length}${record}`) !== length) length++;
      const pax = Buffer.from(`${length}${record}`, 'utf8');
      blocks.push(header('PaxHeader', pax.length, 'x'), pax, pad(pax.length));
    }
    blocks.push(header(name, data.length, '0'), data, pad(data.length));
  }
  blocks.push(Buffer.alloc(1024, 0));
  return Buffer.concat(blocks);
}

const octal = (value: number, length: number): string => value.toString(8).padStart(length - 1, '0') + '\0';

function header(name: string, size: number, type: string): Buffer {
  const block = Buffer.alloc(512, 0);
  const nameBytes = Buffer.from(name, 'utf8');
  nameBytes.copy(block, 0, 0, Math.min(100, nameBytes.length));
  block.write(octal(0o644, 8), 100, 'latin1');
  block.write(octal(0, 8), 108, 'latin1');
  block.write(octal(0, 8), 116, 'latin1');
  block.write(octal(size, 12), 124, 'latin1');
  block.write(octal(Math.floor(Date.now() / 1000), 12), 136, 'latin1');
  block.write('        ', 148, 'latin1');
  block.write(type, 156, 'latin1');
  block.write('ustar\0', 257, 'latin1');
  block.write('00', 263, 'latin1');
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(octal(sum, 7) + ' ', 148, 'latin1');
  return block;
}
