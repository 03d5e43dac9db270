import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { tarArchive } from '../../../../../../test/support/archive-writer';
import type { ArchiveEntry } from './archive-member';
import { judgeMemberPath } from './member-path';
import { readTar } from './tar-reader';

const LIMITS = { maxMembers: 10, maxExpandedBytes: 1 << 20, maxCompressionRatio: 100, maxMemberBytes: 1024 };

async function entries(archive: Buffer, limits = LIMITS): Promise<Array<ArchiveEntry & { data?: string }>> {
  const seen: Array<ArchiveEntry & { data?: string }> = [];
  // Delivered in small chunks, so headers and data straddle them.
  const chunks = Array.from({ length: Math.ceil(archive.length / 100) }, (_, n) =>
    archive.subarray(n * 100, n * 100 + 100),
  );
  await readTar(Readable.from(chunks), limits, async (entry, contents) => {
    seen.push(
      entry.type === 'file' && entry.size <= limits.maxMemberBytes
        ? { ...entry, data: (await contents()).toString() }
        : entry,
    );
  });
  return seen;
}

describe('member paths', () => {
  it.each([
    ['menu/pizza.jpg', 'menu/pizza.jpg'],
    ['./a/./b.jpg', 'a/b.jpg'],
    ['win\\dir\\c.jpg', 'win/dir/c.jpg'],
  ])('takes %s as %s', (raw, path) => expect(judgeMemberPath(raw)).toEqual({ ok: true, path }));

  it.each([
    '../x.jpg',
    'a/../../x.jpg',
    '/etc/passwd',
    'C:\\x.jpg',
    'c:/x.jpg',
    '\\\\server\\share\\x.jpg',
    'a\u0000b',
    '',
    './',
  ])('refuses %j', (raw) => expect(judgeMemberPath(raw).ok).toBe(false));
});

describe('the tar reader', () => {
  it('reads files, directories, links and long (PAX) names', async () => {
    const long = `${'d/'.repeat(70)}x.jpg`;
    const read = await entries(
      tarArchive([
        { name: 'a.jpg', data: Buffer.from('aaa') },
        { name: 'dir/', type: '5' },
        { name: 'link', type: '2', linkName: '/etc/passwd' },
        { name: long, data: Buffer.from('long') },
      ]),
    );
    expect(read.map(({ name, type, data }) => ({ name, type, data }))).toEqual([
      { name: 'a.jpg', type: 'file', data: 'aaa' },
      { name: 'dir/', type: 'directory', data: undefined },
      { name: 'link', type: 'symlink', data: undefined },
      { name: long, type: 'file', data: 'long' },
    ]);
  });

  it('skips a member it was not asked to read, and refuses too many members', async () => {
    const big = tarArchive([
      { name: 'big', data: Buffer.alloc(4000, 1) },
      { name: 'b', data: Buffer.from('b') },
    ]);
    expect((await entries(big)).map((entry) => entry.data)).toEqual([undefined, 'b']);
    const many = tarArchive(Array.from({ length: 11 }, (_, n) => ({ name: `${n}`, data: Buffer.from('x') })));
    await expect(entries(many)).rejects.toMatchObject({ code: 'archive_too_large' });
  });

  it('refuses a damaged header and a truncated member', async () => {
    const archive = tarArchive([{ name: 'a.jpg', data: Buffer.alloc(2000, 7) }]);
    const damaged = Buffer.from(archive);
    damaged[10] ^= 0xff;
    await expect(entries(damaged)).rejects.toMatchObject({ code: 'archive_invalid' });
    await expect(
      entries(archive.subarray(0, 1500), { ...LIMITS, maxMemberBytes: 1 << 20 }),
    ).rejects.toMatchObject({
      code: 'archive_invalid',
    });
  });

  it('stops once the expanded bytes pass the limit', async () => {
    const archive = tarArchive([{ name: 'a', data: Buffer.alloc(300_000) }]);
    await expect(entries(archive, { ...LIMITS, maxExpandedBytes: 100_000 })).rejects.toMatchObject({
      code: 'archive_too_large',
    });
  });
});
