import { describe, expect, it } from 'vitest';
import { NonFiniteOutputError, toProbabilities, topK } from './probabilities';

describe('toProbabilities', () => {
  it('applies softmax to logits, once', () => {
    const probabilities = toProbabilities(Float32Array.from([2, 1, 0]), 'logits');
    const expected = [Math.exp(2), Math.exp(1), 1].map(
      (value, _, all) => value / all.reduce((a, b) => a + b),
    );
    expected.forEach((value, i) => expect(probabilities[i]).toBeCloseTo(value, 12));
  });

  it('keeps a confident probability confident (the seed softmaxed probabilities again)', () => {
    const scores = new Float32Array(101).fill(0.0001);
    scores[5] = 0.99;
    const probabilities = toProbabilities(scores, 'probabilities');
    expect(probabilities[5]).toBeGreaterThan(0.98);
    // What the seed's second softmax did to the same scores:
    const doubled = toProbabilities(scores, 'logits');
    expect(doubled[5]).toBeLessThan(0.03);
  });

  it('renormalises quantised probabilities to sum to 1', () => {
    const probabilities = toProbabilities(Float32Array.from([0.6875, 0.3047, 0.0039, 0]), 'probabilities');
    expect(probabilities.reduce((a, b) => a + b)).toBeCloseTo(1, 12);
    expect(probabilities[0]).toBeCloseTo(0.6875 / 0.9961, 6);
  });

  it('survives huge logits without overflow', () => {
    const probabilities = toProbabilities(Float32Array.from([1000, 999, -1000]), 'logits');
    expect([...probabilities].every(Number.isFinite)).toBe(true);
    expect(probabilities.reduce((a, b) => a + b)).toBeCloseTo(1, 12);
  });

  it('refuses non-finite or all-zero scores instead of emitting NaN', () => {
    expect(() => toProbabilities(Float32Array.from([0.5, Number.NaN]), 'probabilities')).toThrow(
      NonFiniteOutputError,
    );
    expect(() => toProbabilities(Float32Array.from([Infinity, 1]), 'logits')).toThrow(NonFiniteOutputError);
    expect(() => toProbabilities(Float32Array.from([0, 0]), 'probabilities')).toThrow(NonFiniteOutputError);
  });
});

describe('topK', () => {
  it('orders by value, largest first, ties by index', () => {
    expect(topK([0.1, 0.5, 0.2, 0.5], 3)).toEqual([1, 3, 2]);
  });

  it('clamps k to the number of values', () => {
    expect(topK([0.3, 0.7], 5)).toEqual([1, 0]);
  });

  it('ranks nothing for k = 0 (the probabilities alone are wanted)', () => {
    expect(topK([0.3, 0.7], 0)).toEqual([]);
  });
});
