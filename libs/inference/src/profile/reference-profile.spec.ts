import { describe, expect, it } from 'vitest';
import { distribution, referenceProfile } from './reference-profile';

describe('the reference profile', () => {
  it('buckets, averages and interpolates quantiles as stated', () => {
    const values = [0.05, 0.15, 0.5, 0.5, 0.97, 1];
    const result = distribution(values);
    expect(result.counts).toEqual([1, 1, 0, 0, 2, 0, 0, 0, 0, 0, 1, 1]);
    expect(result.mean).toBeCloseTo(3.17 / 6, 6);
    expect(result.p50).toBe(0.5);
    expect(result.p10).toBeCloseTo(0.1, 6);
    expect(result.p90).toBeCloseTo(0.985, 6);
  });

  it('counts the class mix, accuracy and recall, ties going to the lower class as the classifier ranks', () => {
    const labels = ['a', 'b', 'c'];
    const profile = referenceProfile(
      [
        { label: 'a', probabilities: Float64Array.from([0.7, 0.2, 0.1]) },
        { label: 'b', probabilities: Float64Array.from([0.5, 0.5, 0]) },
        { label: 'c', probabilities: Float64Array.from([0, 0.1, 0.9]) },
      ],
      labels,
      {
        model: { name: 'm', version: '1', sha256: 'x' },
        photos: { folder: 'f', count: 3, labels_from: 'file names', digest: 'd' },
      },
    );
    expect(profile.class_mix).toEqual({ a: 0.666667, c: 0.333333 });
    expect(profile.accuracy).toBe(0.666667);
    expect(profile.per_class).toEqual({
      a: { photos: 1, correct: 1, recall: 1 },
      b: { photos: 1, correct: 0, recall: 0 },
      c: { photos: 1, correct: 1, recall: 1 },
    });
    expect(profile.margin.counts[0]).toBe(1); // the tie: margin 0
  });
});
