import { describe, expect, it } from '@jest/globals';
import { accuracy, disparateImpact, selectionRates } from './metrics.js';

describe('metrics', () => {
  const scores = [0.9, 0.2, 0.5, 0.49, 0.7, 0.1];
  const labels = [1, 0, 0, 0, 1, 1];
  const groups = ['b', 'a', 'a', 'b', 'b', 'a'];

  it('accuracy thresholds with score >= threshold', () => {
    expect(accuracy(scores, labels)).toBeCloseTo(4 / 6);
    expect(accuracy(scores, labels, 0.05)).toBeCloseTo(3 / 6);
    expect(() => accuracy([1], [1, 0])).toThrow('differ in length');
  });

  it('selection rates per group, and their min/max ratio', () => {
    const rates = selectionRates(scores, groups);
    expect(rates).toEqual({ a: 1 / 3, b: 2 / 3 });
    expect(Object.keys(rates)).toEqual(['a', 'b']);
    expect(disparateImpact(rates)).toBeCloseTo(0.5);
    expect(disparateImpact({ a: 0, b: 0 })).toBe(1);
  });

  it('never selects a NaN score', () => {
    expect(selectionRates([Number.NaN, 1], ['a', 'a'])).toEqual({ a: 0.5 });
  });
});
