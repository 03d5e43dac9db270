import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProblemError } from '@app/problem';
import { decodeBase64Image } from './base64-image';

// The rule the one-pass reader replaced, kept here as the oracle: one alphabet, padding only at the end.
const STANDARD = /^[A-Za-z0-9+/]*={0,2}$/;
const URL_SAFE = /^[A-Za-z0-9_-]*={0,2}$/;
const acceptedByRule = (text: string) => {
  const body = text.replace(/^data:[\w.+-]+\/[\w.+-]+;base64,/i, '').replace(/\s+/g, '');
  return body.length > 0 && body.length % 4 !== 1 && (STANDARD.test(body) || URL_SAFE.test(body));
};
const codeOf = (text: string) => {
  try {
    decodeBase64Image(text, 1024);
    return 'ok';
  } catch (error) {
    return error instanceof ProblemError ? error.code : 'thrown';
  }
};

describe('decodeBase64Image', () => {
  it('gives back the bytes from standard and URL-safe base64, a data: URL, and text broken by whitespace', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 300 }), (bytes) => {
        const buffer = Buffer.from(bytes);
        const standard = buffer.toString('base64');
        for (const text of [
          standard,
          buffer.toString('base64url'),
          `data:image/jpeg;base64,${standard}`,
          standard.replace(/(.{7})/g, '$1\n '),
        ]) {
          expect([...decodeBase64Image(text, 1024)]).toEqual([...bytes]);
        }
      }),
    );
  });

  it('accepts exactly the texts the alphabet rule accepts, and says why it refuses the others', () => {
    // 'Ł' is U+0141: its low byte is 'A', which a latin1 reading would fold it into.
    const alphabet = 'AZaz09+/-_= \n.!éŁ'.split('');
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...alphabet), { maxLength: 24 }), (chars) => {
        const text = chars.join('');
        const code = codeOf(text);
        if (acceptedByRule(text)) expect(code).toBe('ok');
        else expect(code).toBe('invalid_base64');
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses an image over the limit before decoding it, and after', () => {
    expect(codeOf(Buffer.alloc(1100).toString('base64'))).toBe('too_large');
    expect(codeOf(Buffer.alloc(1024).toString('base64'))).toBe('ok');
  });
});
