import { describe, expect, it } from 'vitest';
import { ProgressReporter } from './progress-reporter';

function capture(isTTY: boolean) {
  const writes: string[] = [];
  return { writes, stream: { isTTY, write: (text: string) => writes.push(text) } };
}

describe('ProgressReporter', () => {
  it('writes one line per 10 % when not on a terminal', () => {
    const { writes, stream } = capture(false);
    const reporter = new ProgressReporter(stream);
    for (let received = 0; received <= 1_000_000; received += 10_000)
      reporter.update('model.h5', { received, total: 1_000_000 });
    expect(writes).toHaveLength(11);
    expect(writes[0]).toBe('model.h5: 0% (0.0 MB of 1.0 MB)\n');
    expect(writes[10]).toBe('model.h5: 100% (1.0 MB of 1.0 MB)\n');
  });

  it('redraws one line with a bar on a terminal, and ends it when the file is done', () => {
    const { writes, stream } = capture(true);
    const reporter = new ProgressReporter(stream);
    reporter.update('model.h5', { received: 500_000, total: 1_000_000 });
    reporter.finish();
    expect(writes[0]).toBe(`\r[${'#'.repeat(15)}${'.'.repeat(15)}]  50% 0.5 MB / 1.0 MB model.h5\x1b[K`);
    expect(writes[1]).toBe('\n');
  });

  it('reports every 10 MB when the size is unknown', () => {
    const { writes, stream } = capture(false);
    const reporter = new ProgressReporter(stream);
    for (let received = 0; received <= 25e6; received += 1e6) reporter.update('x', { received });
    expect(writes).toEqual(['x: 0.0 MB\n', 'x: 10.0 MB\n', 'x: 20.0 MB\n']);
  });
});
