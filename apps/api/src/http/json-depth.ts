import { problem, type ProblemError } from '@app/problem';

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Whether the JSON text nests arrays and objects deeper than `maxDepth` (`[]` and `{}` are depth 1), found with
 * one iterative pass over the bytes, before the text is parsed: a deep document must never reach code that walks
 * it recursively (class-transformer, validation, tensor flattening) and overflows the stack. Brackets inside
 * strings do not count. The text need not be valid JSON; the parser judges that afterwards.
 */
export function exceedsJsonDepth(text: Uint8Array, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const byte = text[i];
    if (inString) {
      if (byte === BACKSLASH) i++;
      else if (byte === QUOTE) inString = false;
    } else if (byte === QUOTE) {
      inString = true;
    } else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
      if (++depth > maxDepth) return true;
    } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
      depth--;
    }
  }
  return false;
}

/** The error body-parser's `verify` throws for a too-deep body; both error filters map its `type` to a 400. */
export class JsonTooDeepError extends Error {
  readonly status = 400;
  readonly type = 'entity.too.deep';

  constructor(readonly maxDepth: number) {
    super(`The JSON body nests arrays and objects deeper than ${maxDepth} levels.`);
    this.name = 'JsonTooDeepError';
  }
}

/** The 400 problem for a body nested deeper than `maxDepth` (the /v2 filter sends its detail as `error`). */
export function jsonTooDeep(maxDepth: number): ProblemError {
  return problem(
    'json_too_deep',
    `The JSON body nests arrays and objects more than ${maxDepth} levels deep (MAX_JSON_DEPTH); no valid request does: flatten it.`,
  );
}

/** body-parser `verify` hook: refuses a body nested deeper than `maxDepth` before it is parsed. */
export function verifyJsonDepth(
  maxDepth: number,
): (request: unknown, response: unknown, body: Buffer) => void {
  return (_request, _response, body) => {
    if (exceedsJsonDepth(body, maxDepth)) throw new JsonTooDeepError(maxDepth);
  };
}
