import { describe, expect, it } from 'vitest';
import { StageClock } from './stage-clock';

describe('StageClock', () => {
  it('turns marks into back-to-back steps on the wall clock, a step read inside a callee in its place', () => {
    const clock = new StageClock();
    const start = clock.mark('start');
    const resized = clock.mark('image.resize');
    clock.insertBefore('image.resize', 'image.decode', (start + resized) / 2);
    const inferred = clock.mark('model.inference');
    const stages = clock.stages({ model: 'm' });
    expect(stages.map((stage) => stage.name)).toEqual(['image.decode', 'image.resize', 'model.inference']);
    const origin = performance.timeOrigin;
    expect(stages[0].startMs).toBe(origin + start);
    expect(stages[0].endMs).toBe(stages[1].startMs);
    expect(stages[1].endMs).toBe(origin + resized);
    expect(stages[2].endMs).toBe(origin + inferred);
    expect(stages.every((stage) => stage.attributes?.model === 'm')).toBe(true);
  });
});
