import { describe, expect, it } from 'vitest';
import { ComparisonStats } from './comparison-stats';

describe('ComparisonStats', () => {
  it('counts agreement, the confidence gap and each disagreement, per kind of traffic', () => {
    const stats = new ComparisonStats('1', '2');
    stats.compare('shadow', { label: 'pizza', confidence: 0.9 }, { label: 'pizza', confidence: 0.7 });
    stats.compare('shadow', { label: 'steak', confidence: 0.6 }, { label: 'filet_mignon', confidence: 0.5 });
    stats.compare('shadow', { label: 'steak', confidence: 0.8 }, { label: 'filet_mignon', confidence: 0.4 });
    stats.compare('canary', { label: 'ramen', confidence: 0.5 }, { label: 'ramen', confidence: 0.5 });
    expect(stats.traffic.shadow.compared).toBe(3);
    expect(stats.traffic.shadow.agreed).toBe(1);
    expect(stats.traffic.shadow.confidenceDelta).toBeCloseTo(0.2 + 0.1 + 0.4, 12);
    expect([...stats.traffic.shadow.disagreements]).toEqual([['steak\u0000filet_mignon', 2]]);
    expect(stats.compared).toBe(4);
    expect(stats.agreement).toBeCloseTo(2 / 4, 12);
  });

  it('calls a pair with nothing compared in full agreement (no evidence against it)', () => {
    expect(new ComparisonStats('1', '2').agreement).toBe(1);
  });
});
