import { describe, expect, it } from 'vitest';
import { jensenShannon } from './divergence';

describe('jensenShannon', () => {
  it('is 0 for the same distribution (counts or shares), 1 for disjoint ones, and symmetric', () => {
    expect(jensenShannon([1, 2, 3], [10, 20, 30])).toBeCloseTo(0, 12);
    expect(jensenShannon([1, 0], [0, 1])).toBeCloseTo(1, 12);
    expect(jensenShannon([0.9, 0.1], [0.5, 0.5])).toBeCloseTo(jensenShannon([0.5, 0.5], [0.9, 0.1]), 12);
  });

  it('matches the definition on a worked case', () => {
    // p = (1/2, 1/2, 0), q = (0, 1/2, 1/2): m = (1/4, 1/2, 1/4); JS = 1/2 [1/2·log2 2 + 0] · 2 = 1/2.
    expect(jensenShannon([1, 1, 0], [0, 1, 1])).toBeCloseTo(0.5, 12);
  });
});
