import { describe, expect, it } from '@jest/globals';
import { scoresOf } from './scoring.js';

describe('scoresOf', () => {
  it('reads element `scoreIndex` of each row', () => {
    const probabilities = Float32Array.from([0.75, 0.25, 0.5, 0.5, 0, 1]);
    expect(Array.from(scoresOf(probabilities, 3, 1) ?? [])).toEqual([0.25, 0.5, 1]);
    expect(Array.from(scoresOf(probabilities, 3, 0) ?? [])).toEqual([0.75, 0.5, 0]);
  });

  it('reads one value per row, typed or logged as JSON', () => {
    expect(Array.from(scoresOf([0.125, 0.5], 2, 0) ?? [])).toEqual([0.125, 0.5]);
    expect(Array.from(scoresOf(BigInt64Array.from([3n, 4n]), 2, 0) ?? [])).toEqual([3, 4]);
  });

  it('has no rows to read from none', () => {
    expect(scoresOf([], 0, 0)).toEqual(new Float64Array(0));
  });

  it('refuses an output that does not hold the index for every row', () => {
    expect(scoresOf([1, 2, 3], 2, 0)).toBeNull();
    expect(scoresOf([1, 2, 3, 4], 2, 2)).toBeNull();
    expect(scoresOf([1, 2], -1, 0)).toBeNull();
    expect(scoresOf([1, 2], 1.5, 0)).toBeNull();
  });

  it('reads an element that is not a number as NaN', () => {
    expect(Array.from(scoresOf([null, 'x', 0.5], 3, 0) ?? [])).toEqual([NaN, NaN, 0.5]);
  });
});
