import { describe, expect, it } from 'vitest';
import { ProblemError } from '@app/problem';
import { effectivePort, parseImageUrl } from './image-url';

function refusal(raw: string): string {
  try {
    parseImageUrl(raw);
  } catch (error) {
    if (error instanceof ProblemError) return error.code;
    throw error;
  }
  return 'accepted';
}

describe('parseImageUrl', () => {
  // Measured with Node's WHATWG parser: every odd IPv4 spelling reaches the checks as a dotted quad.
  it.each([
    ['http://2130706433/', '127.0.0.1'],
    ['http://0177.0.0.1/', '127.0.0.1'],
    ['http://0x7f.1/', '127.0.0.1'],
    ['http://0x7f.0x0.0x0.0x1/', '127.0.0.1'],
    ['http://0x7f000001/', '127.0.0.1'],
    ['http://017700000001/', '127.0.0.1'],
    ['http://127.1/', '127.0.0.1'],
    ['http://127.000.000.001/', '127.0.0.1'],
    ['http://127.0.0.1./', '127.0.0.1'],
    ['http://%31%32%37.0.0.1/', '127.0.0.1'],
    ['http://１２７．０．０．１/', '127.0.0.1'],
    ['http://0/', '0.0.0.0'],
    ['http://[::ffff:127.0.0.1]/', '[::ffff:7f00:1]'],
    ['http://[0:0:0:0:0:ffff:127.0.0.1]/', '[::ffff:7f00:1]'],
    ['http://[::127.0.0.1]/', '[::7f00:1]'],
    ['http://ⓛⓞⓒⓐⓛⓗⓞⓢⓣ/', 'localhost'],
    ['http:/\\169.254.169.254/', '169.254.169.254'],
    ['http://example.com\\@127.0.0.1/', 'example.com'],
  ])('canonicalises %s to the host %s', (raw, host) => {
    expect(parseImageUrl(raw).hostname).toBe(host);
  });

  it.each([
    'file:///etc/passwd',
    'ftp://example.com/a.jpg',
    'gopher://127.0.0.1:6379/_INFO',
    'dict://127.0.0.1:11211/stats',
    'ldap://127.0.0.1/',
    'data:image/png;base64,iVBORw0KGgo=',
    'javascript:alert(1)',
    'ws://example.com/a.jpg',
    'jar:http://example.com/a.zip!/a.jpg',
  ])('refuses the scheme of %s', (raw) => {
    expect(refusal(raw)).toBe('url_scheme_not_allowed');
  });

  it.each([
    'http://user:secret@example.com/a.jpg',
    'http://user@example.com/a.jpg',
    'http://:secret@example.com/a.jpg',
    'http://127.0.0.1:80@example.com/',
  ])('refuses credentials in %s', (raw) => {
    expect(refusal(raw)).toBe('url_credentials_not_allowed');
  });

  it.each([
    '',
    '   ',
    'not a url',
    '/relative/a.jpg',
    'http://',
    'http://[fe80::1%25eth0]/',
    'http://256.0.0.1/',
    `http://example.com/${'a'.repeat(2100)}`,
  ])('refuses the malformed URL %j', (raw) => {
    expect(refusal(raw)).toBe('invalid_url');
  });

  it('accepts an ordinary image URL unchanged', () => {
    const url = parseImageUrl('https://images.example.com/dishes/pizza.jpg?w=800');
    expect(url.href).toBe('https://images.example.com/dishes/pizza.jpg?w=800');
  });

  it('knows the default ports', () => {
    expect(effectivePort(parseImageUrl('http://example.com/'))).toBe(80);
    expect(effectivePort(parseImageUrl('https://example.com/'))).toBe(443);
    expect(effectivePort(parseImageUrl('http://example.com:0080/'))).toBe(80);
    expect(effectivePort(parseImageUrl('https://example.com:8443/'))).toBe(8443);
  });
});
