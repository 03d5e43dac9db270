import { describe, expect, it } from 'vitest';
import { BoundedQueue } from './bounded-queue';

describe('BoundedQueue', () => {
  it('is first in, first out', () => {
    const queue = new BoundedQueue<number>(3);
    queue.push(1);
    queue.push(2);
    expect(queue.shift()).toBe(1);
    queue.push(3);
    queue.push(4);
    expect(queue.length).toBe(3);
    expect(queue.takeAll()).toEqual([2, 3, 4]);
    expect(queue.shift()).toBeUndefined();
  });

  it('drops and returns the oldest item when full', () => {
    const queue = new BoundedQueue<string>(2);
    expect(queue.push('a')).toBeUndefined();
    expect(queue.push('b')).toBeUndefined();
    expect(queue.push('c')).toBe('a');
    expect(queue.push('d')).toBe('b');
    expect(queue.takeAll()).toEqual(['c', 'd']);
  });

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => new BoundedQueue(0)).toThrow(RangeError);
    expect(() => new BoundedQueue(1.5)).toThrow(RangeError);
  });
});
