import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OTLP_PROTO_DIR, OTLP_PROTO_FILES } from '../support/otlp-receiver';

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

describe('the vendored OTLP .proto files', () => {
  it('are the official bytes, as their README records them', () => {
    const readme = readFileSync(join(OTLP_PROTO_DIR, 'README.md'), 'utf8');
    for (const file of OTLP_PROTO_FILES) {
      expect(readme).toContain(`| \`${file}\``);
      expect(readme).toContain(sha256(join(OTLP_PROTO_DIR, file)));
    }
  });
});
