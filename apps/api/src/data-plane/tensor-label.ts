/** A tensor name (or any client value) as it may appear in an error message: text, at most 64 characters. */
export function tensorLabel(name: unknown): string {
  const text = typeof name === 'string' ? name : (JSON.stringify(name) ?? String(name));
  return text.length > 64 ? `${text.slice(0, 64)}…` : text;
}
