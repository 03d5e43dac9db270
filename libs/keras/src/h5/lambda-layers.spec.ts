import { describe, expect, it } from 'vitest';
import { checkLambdaLayers } from './lambda-layers';

describe('checkLambdaLayers (manifest lambda_layers)', () => {
  it('accepts clip entries and nothing at all', () => {
    expect(checkLambdaLayers(undefined, 'm.json')).toEqual({});
    expect(checkLambdaLayers({ lambda_3: { op: 'clip', min: -4, max: 4 } }, 'm.json')).toEqual({
      lambda_3: { op: 'clip', min: -4, max: 4 },
    });
  });

  it('refuses an unknown op or bounds that are not two ordered numbers, naming the entry', () => {
    expect(() => checkLambdaLayers({ l: { op: 'gelu' } }, 'm.json')).toThrow(
      'The manifest m.json has lambda_layers that cannot be used: "l" must be {"op": "clip", "min": <number>, "max": <number>} (supported ops: clip).',
    );
    expect(() => checkLambdaLayers({ l: { op: 'clip', min: 4, max: -4 } }, 'm.json')).toThrow(
      /"l" clips to \[4, -4\]/,
    );
    expect(() => checkLambdaLayers({ l: { op: 'clip', min: '0', max: 1 } }, 'm.json')).toThrow(
      /"l" clips to/,
    );
    expect(() => checkLambdaLayers([], 'm.json')).toThrow(/it is not an object/);
  });
});
