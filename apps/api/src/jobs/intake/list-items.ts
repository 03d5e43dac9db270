import { readFile } from 'node:fs/promises';
import { problem } from '@app/problem';
import type { NewItem } from '../../jobs-engine/job-types';

const MAX_ID_LENGTH = 512;

/** Why one entry of a list is not an item; collected, so the 400 names every bad entry (the first 20). */
interface EntryError {
  field: string;
  message: string;
}

/**
 * A JSON list's entries (`"https://..."` or `{"id": "...", "url": "..."}`) as items: the id is the client's, or
 * the entry's index. Ids must be unique. The URL itself is judged when the item runs, by the same fetcher as
 * `/v1` (so a bad one is that item's problem, with the same code).
 */
export function listItems(entries: readonly unknown[], field: string): NewItem[] {
  const errors: EntryError[] = [];
  const seen = new Set<string>();
  const items: NewItem[] = [];
  entries.forEach((entry, index) => {
    const where = `${field}[${index}]`;
    let id = String(index);
    let url: unknown = entry;
    if (typeof entry === 'object' && entry !== null && !Array.isArray(entry)) {
      const record = entry as Record<string, unknown>;
      const unknownKeys = Object.keys(record).filter((key) => key !== 'id' && key !== 'url');
      if (unknownKeys.length > 0) {
        errors.push({ field: where, message: `${where} has unknown properties: ${unknownKeys.join(', ')}` });
        return;
      }
      if (record.id !== undefined) {
        if (
          (typeof record.id !== 'string' && typeof record.id !== 'number') ||
          String(record.id).length === 0
        ) {
          errors.push({
            field: `${where}.id`,
            message: `${where}.id must be a non-empty string or a number`,
          });
          return;
        }
        id = String(record.id);
      }
      url = record.url;
    }
    if (typeof url !== 'string' || url.length === 0) {
      errors.push({ field: `${where}.url`, message: `${where} needs a url (a string)` });
      return;
    }
    if (id.length > MAX_ID_LENGTH) {
      errors.push({
        field: `${where}.id`,
        message: `${where}.id is longer than ${MAX_ID_LENGTH} characters`,
      });
      return;
    }
    if (seen.has(id)) {
      errors.push({
        field: `${where}.id`,
        message: `${where}.id "${id}" is used by an earlier item: ids must be unique`,
      });
      return;
    }
    seen.add(id);
    items.push({ id, kind: 'url', url });
  });
  if (errors.length > 0) {
    const shown = errors.slice(0, 20);
    throw problem(
      'validation_failed',
      `${errors.length} item(s) of the list are not valid: ${shown.map((error) => error.message).join('; ')}${errors.length > shown.length ? '; ...' : ''}.`,
      { errors: shown },
    );
  }
  if (items.length === 0)
    throw problem('validation_failed', 'The list is empty: a job needs at least one item.');
  return items;
}

/** A JSONL file, one `{"id": "...", "url": "..."}` per line (blank lines skipped), as items. */
export async function jsonlItems(path: string): Promise<NewItem[]> {
  const text = await readFile(path, 'utf8');
  const entries: unknown[] = [];
  const lines = text.split('\n');
  for (let line = 0; line < lines.length; line++) {
    const content = lines[line].trim();
    if (content === '') continue;
    try {
      entries.push(JSON.parse(content));
    } catch {
      throw problem(
        'validation_failed',
        `Line ${line + 1} of the JSONL body is not JSON: send one {"id", "url"} object per line.`,
        {
          errors: [{ field: `line ${line + 1}`, message: 'not valid JSON' }],
        },
      );
    }
  }
  return listItems(entries, 'lines');
}
