import { createServer } from 'node:net';

/** A port that was free a moment ago on 127.0.0.1 (tests, benchmarks and scripts alike). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
    probe.on('error', reject);
  });
}
