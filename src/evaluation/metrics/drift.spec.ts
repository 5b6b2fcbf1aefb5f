import { describe, expect, it } from '@jest/globals';
import { binIndex, binProportions, driftBaseline, driftPsi, psi, PSI_EPSILON } from './drift.js';
import { MetricInputError, NonFiniteValueError } from './errors.js';

describe('driftBaseline', () => {
  it('puts edges at the inverted-CDF quantiles, merging repeated values', () => {
    // reference-values.py `drift` (np.quantile(method='inverted_cdf') at 1/4, 2/4, 3/4), and by
    // hand: 20 sorted values, edges at positions ⌈20·j/4⌉ − 1 = 4, 9, 14 → 2, 7, 9. Bins
    // (−∞, 2] (−2, 7] (7, 9] (9, ∞) hold 5, 5, 7 and 3 values.
    const values = [9, 1, 2, 2, 2, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 9, 9, 10, 11, 12];
    expect(driftBaseline(values, 4)).toEqual({
      count: 20,
      edges: [2, 7, 9],
      proportions: [0.25, 0.25, 0.35, 0.15],
    });
  });

  it('gives deciles of 1…100 with a tenth in each bin', () => {
    const values = Float64Array.from({ length: 100 }, (_, i) => 100 - i);
    const baseline = driftBaseline(values);
    expect(baseline.edges).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90]);
    expect(baseline.proportions).toEqual(Array.from({ length: 10 }, () => 0.1));
  });

  it('never leaves a baseline bin empty: an edge at the maximum is dropped, one value gives one bin', () => {
    // 0/1 feature, 70 % ones: every quantile from 0.3 up is 1, the maximum.
    const binary = Array.from({ length: 10 }, (_, i) => (i < 3 ? 0 : 1));
    expect(driftBaseline(binary)).toEqual({ count: 10, edges: [0], proportions: [0.3, 0.7] });
    expect(driftBaseline([4, 4, 4])).toEqual({ count: 3, edges: [], proportions: [1] });
    expect(driftBaseline([-0, 0, 5], 2)).toEqual({
      count: 3,
      edges: [0],
      proportions: [2 / 3, 1 / 3],
    });
  });

  it('bins float32 and negative values, and its proportions equal binning the data by its edges', () => {
    const values = Float32Array.from({ length: 999 }, (_, i) => Math.sin(i) * 50 - 10);
    const baseline = driftBaseline(values, 10);
    expect(baseline.edges).toHaveLength(9);
    expect(binProportions(baseline.edges, values)).toEqual(baseline.proportions);
    expect(driftPsi(baseline, values)).toBe(0);
  });

  it('refuses NaN with its row, empty input and a bad bin count', () => {
    expect(() => driftBaseline([1, Number.NaN])).toThrow(
      new NonFiniteValueError('values', 1, Number.NaN),
    );
    expect(() => driftBaseline([])).toThrow(MetricInputError);
    expect(() => driftBaseline([1, 2], 1)).toThrow(MetricInputError);
  });
});

describe('binIndex', () => {
  it('puts a value equal to an edge in the bin that edge closes (right-closed bins)', () => {
    const edges = [2, 7, 9];
    expect([1, 2, 2.5, 7, 8, 9, 9.1, 100].map((v) => binIndex(edges, v))).toEqual([
      0, 0, 1, 1, 2, 2, 3, 3,
    ]);
    expect(binIndex([], 5)).toBe(0);
  });

  it('refuses edges that are not strictly increasing', () => {
    expect(() => binProportions([2, 2], [1])).toThrow(MetricInputError);
  });
});

describe('psi', () => {
  it('is 0 for identical distributions', () => {
    expect(psi([0.1, 0.2, 0.3, 0.4], [0.1, 0.2, 0.3, 0.4])).toBe(0);
  });

  it('matches a hand computation', () => {
    // (0.2 − 0.25)·ln(0.8) + (0.4 − 0.25)·ln(1.6) + (0.4 − 0.5)·ln(0.8)
    //   = 0.011157 + 0.070501 + 0.022314 = 0.103972 (reference-values.py `psi`).
    expect(psi([0.25, 0.25, 0.5], [0.2, 0.4, 0.4])).toBeCloseTo(0.10397207708399181, 15);
  });

  it('floors empty bins at epsilon instead of dividing by zero', () => {
    // Baseline bin 3 empty: (0.1 − 1e-4)·ln(0.1 / 1e-4) + (0.4 − 0.5)·ln(0.8) = 0.712399.
    expect(PSI_EPSILON).toBe(1e-4);
    expect(psi([0.5, 0.5, 0], [0.4, 0.5, 0.1])).toBeCloseTo(0.7123991075017365, 15);
    expect(psi([0.5, 0.5, 0], [0.5, 0.5, 0])).toBe(0);
  });

  it('measures new data against a stored baseline', () => {
    const baseline = driftBaseline(Array.from({ length: 100 }, (_, i) => i + 1));
    // Everything in the top decile: a = 1 there, ε elsewhere; b = 0.1 in every bin.
    const shifted = Array.from({ length: 50 }, () => 1000);
    const expected = 9 * (1e-4 - 0.1) * Math.log(1e-4 / 0.1) + (1 - 0.1) * Math.log(1 / 0.1);
    expect(driftPsi(baseline, shifted)).toBeCloseTo(expected, 12);
  });

  it('refuses mismatched bins, non-proportions and counts passed as proportions', () => {
    expect(() => psi([0.5, 0.5], [1])).toThrow(MetricInputError);
    expect(() => psi([], [])).toThrow(MetricInputError);
    expect(() => psi([0.5, 0.5], [Number.NaN, 1])).toThrow(MetricInputError);
    expect(() => psi([5, 5], [4, 6])).toThrow(MetricInputError);
    expect(() => psi([0.5, 0.5], [0.4, 0.4])).toThrow('actual: proportions sum to 0.8, not 1');
    expect(() => psi([0.5, 0.5], [0.5, 0.5], 0)).toThrow(MetricInputError);
  });
});
