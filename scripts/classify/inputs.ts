import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';

/** One photo to classify: a file of the folder (id: its path in the folder) or a URL of the list. */
export type InputItem = { id: string; file: string } | { id: string; url: string };

const PHOTO_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.gif', '.bmp']);

/**
 * The items of a folder (every photo file under it, by extension, sorted; the id is its path relative to the
 * folder with `/` separators) or of a list (a text file of one URL per line, or JSONL of `{"id", "url"}`).
 */
export function readInputs(input: string): InputItem[] {
  if (!existsSync(input))
    throw new Error(`${input} does not exist: give a folder of photos or a list of URLs`);
  if (statSync(input).isDirectory()) {
    return readdirSync(input, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile() && PHOTO_EXTENSIONS.has(extname(entry.name).toLowerCase()))
      .map((entry) => join(entry.parentPath, entry.name))
      .sort()
      .map((file) => ({ id: relative(input, file).split(sep).join('/'), file }));
  }
  const items: InputItem[] = [];
  const ids = new Set<string>();
  readFileSync(input, 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .forEach((line, index) => {
      if (line === '' || line.startsWith('#')) return;
      let item: InputItem;
      if (line.startsWith('{')) {
        const parsed = JSON.parse(line) as { id?: unknown; url?: unknown };
        if (typeof parsed.url !== 'string') throw new Error(`line ${index + 1} of ${input} has no url`);
        const id =
          typeof parsed.id === 'string' || typeof parsed.id === 'number' ? String(parsed.id) : String(index);
        item = { id, url: parsed.url };
      } else {
        item = { id: line, url: line };
      }
      if (ids.has(item.id)) throw new Error(`line ${index + 1} of ${input}: the id ${item.id} is used twice`);
      ids.add(item.id);
      items.push(item);
    });
  return items;
}

/** The ids already in the output (JSON Lines with `id`); a last line cut short by an interruption is dropped. */
export function readDone(out: string): { ids: Set<string>; validBytes: number } {
  const ids = new Set<string>();
  if (!existsSync(out)) return { ids, validBytes: 0 };
  const text = readFileSync(out, 'utf8');
  let validBytes = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') {
      validBytes += Buffer.byteLength(line) + 1;
      continue;
    }
    try {
      const parsed = JSON.parse(line) as { id?: unknown };
      if (typeof parsed.id !== 'string') break;
      ids.add(parsed.id);
      validBytes += Buffer.byteLength(line) + 1;
    } catch {
      break;
    }
  }
  return { ids, validBytes: Math.min(validBytes, Buffer.byteLength(text)) };
}
