import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { docsCsp, inlineStyleHashes } from './security-headers';

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

describe('inlineStyleHashes', () => {
  it("hashes each <style> element's text and each style attribute, once", () => {
    const html =
      '<style>\n body { margin: 0 }\n</style><svg style="position:absolute;width:0"></svg>' +
      '<style type="text/css">a{}</style><i style="position:absolute;width:0"></i>';
    expect(inlineStyleHashes(html)).toEqual([
      sha256('\n body { margin: 0 }\n'),
      sha256('a{}'),
      sha256('position:absolute;width:0'),
    ]);
  });

  it('finds nothing in a page without inline styles', () => {
    expect(inlineStyleHashes('<link rel="stylesheet" href="x.css"><p>hi</p>')).toEqual([]);
  });
});

describe('docsCsp', () => {
  it('allows scripts from its own origin only and the page styles by hash', () => {
    const policy = docsCsp('<style>a{}</style>');
    expect(policy).toContain("script-src 'self';");
    expect(policy).toContain(sha256('a{}'));
    expect(policy).not.toContain('unsafe-inline');
    expect(policy).toContain("frame-ancestors 'none'");
  });
});
