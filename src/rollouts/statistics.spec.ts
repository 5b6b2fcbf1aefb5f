import { describe, expect, it } from '@jest/globals';
import {
  aucDifferenceTest,
  erfc,
  mannWhitneyBinned,
  oneProportionTest,
  twoProportionTest,
  upperTail,
} from './statistics.js';

// Reference values from scipy 1.x (stats.norm.sf, stats.mannwhitneyu with
// method='asymptotic', use_continuity=True) and numpy for the z statistics.
describe('rollout statistics', () => {
  it('erfc and the normal tail match scipy', () => {
    expect(upperTail(1.96)).toBeCloseTo(0.024997895148220435, 7);
    expect(upperTail(-0.5)).toBeCloseTo(0.6914624612740131, 7);
    expect(erfc(0)).toBeCloseTo(1, 7);
    expect(erfc(3)).toBeCloseTo(2.209049699858544e-5, 10);
  });

  it('two-proportion z-test', () => {
    const greater = twoProportionTest(30, 200, 10, 250, 'greater');
    expect(greater.statistic).toBeCloseTo(4.074384586179557, 9);
    expect(greater.pValue).toBeCloseTo(2.3068093025477587e-5, 9);
    expect(twoProportionTest(30, 200, 10, 250, 'two-sided').pValue).toBeCloseTo(
      4.613618605095517e-5,
      9,
    );
    expect(twoProportionTest(30, 200, 10, 250, 'less').pValue).toBeGreaterThan(0.99);
    // Identical samples with no events: no evidence either way.
    expect(twoProportionTest(0, 100, 0, 300, 'greater').pValue).toBeCloseTo(0.5, 6);
  });

  it('one-proportion z-test against a threshold', () => {
    const r = oneProportionTest(12, 100, 0.05, 'greater');
    expect(r.statistic).toBeCloseTo(3.2118202741878648, 9);
    expect(r.pValue).toBeCloseTo(0.0006594843062896773, 9);
    expect(() => oneProportionTest(1, 10, 0, 'greater')).toThrow(/p0/);
    expect(() => oneProportionTest(11, 10, 0.5, 'greater')).toThrow(/count/);
  });

  it('Mann-Whitney U on binned samples equals scipy on the raw values', () => {
    // a = [0,1,1,2,4,4,4], b = [0,0,1,3,3] as counts over the bins 0..4
    const a = [1, 2, 1, 0, 3];
    const b = [2, 1, 0, 2, 0];
    const greater = mannWhitneyBinned(a, b, 'greater');
    expect(greater.statistic).toBe(24);
    expect(greater.pValue).toBeCloseTo(0.159302743673302, 7);
    expect(mannWhitneyBinned(a, b, 'two-sided').pValue).toBeCloseTo(0.318605487346604, 7);
    expect(mannWhitneyBinned(a, b, 'less').pValue).toBeCloseTo(0.8776965745860352, 7);
    expect(() => mannWhitneyBinned([1], [0], 'greater')).toThrow(/at least one/);
  });

  it('a clearly slower sample is significant, an identical one is not', () => {
    const fast = [0, 500, 480, 20, 0, 0];
    const slow = [0, 0, 10, 40, 400, 50];
    expect(mannWhitneyBinned(slow, fast, 'greater').pValue).toBeLessThan(1e-6);
    expect(mannWhitneyBinned(fast, fast, 'greater').pValue).toBeGreaterThan(0.4);
  });

  it('Hanley-McNeil comparison of two AUCs', () => {
    const r = aucDifferenceTest(
      { auc: 0.9, positives: 200, negatives: 200 },
      { auc: 0.7, positives: 200, negatives: 200 },
      'greater',
    );
    expect(r.pValue).toBeLessThan(1e-6);
    const same = aucDifferenceTest(
      { auc: 0.8, positives: 50, negatives: 50 },
      { auc: 0.8, positives: 50, negatives: 50 },
      'two-sided',
    );
    expect(same.pValue).toBeCloseTo(1, 6);
  });
});
