import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/deploy-files';
import { SHARED_DIR } from '../support/shared-data';

const PROTO_DIR = join(ROOT, 'apps', 'api', 'src', 'grpc', 'proto');
const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

describe('the committed .proto files', () => {
  it('are the official bytes, as proto/README.md records them', () => {
    const official = join(SHARED_DIR, 'specs', 'open-inference-protocol', 'open_inference_grpc.proto');
    expect(sha256(join(PROTO_DIR, 'open_inference_grpc.proto'))).toBe(sha256(official));
    const readme = readFileSync(join(PROTO_DIR, 'README.md'), 'utf8');
    for (const file of ['open_inference_grpc.proto', 'health.proto']) {
      expect(readme).toContain(sha256(join(PROTO_DIR, file)));
    }
  });
});
