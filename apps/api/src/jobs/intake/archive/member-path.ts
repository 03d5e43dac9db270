/** The member's path as an item id, or why it is refused: nothing in an archive names a place on disk. */
export type MemberPath = { ok: true; path: string } | { ok: false; reason: string };

/**
 * Judges a member's path: refused when absolute (`/x`, `C:\x`, `\\server\x`), when a segment is `..`, or
 * when it holds a NUL or control character. `./a.jpg` is `a.jpg`; backslashes count as separators (zips made on
 * Windows). The path is only ever an id: members are written under the job's folder by index, never by name.
 */
export function judgeMemberPath(raw: string): MemberPath {
  if (raw.length === 0) return { ok: false, reason: 'it has an empty name' };
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(raw)) return { ok: false, reason: 'its name holds control characters' };
  const slashed = raw.replace(/\\/g, '/');
  if (slashed.startsWith('/') || /^[A-Za-z]:/.test(slashed)) {
    return { ok: false, reason: 'its path is absolute' };
  }
  const segments = slashed.split('/').filter((segment) => segment !== '' && segment !== '.');
  if (segments.includes('..')) return { ok: false, reason: 'its path climbs out of the archive with ..' };
  if (segments.length === 0) return { ok: false, reason: 'it has an empty name' };
  return { ok: true, path: segments.join('/') };
}
