import { describe, expect, it } from '@jest/globals';
import {
  bootstrapIntervals,
  bootstrapResamples,
  percentileInterval,
  type BootstrapOptions,
} from './bootstrap.js';
import { MetricInputError } from './errors.js';
import { evaluateClassification } from './evaluate.js';
import { prepareSample, type ClassificationInput } from './scored-sample.js';

/**
 * 24 rows with tied scores, groups f (11 rows), m (11) and x (2, below the minimum of 3).
 * The expected intervals are printed by reference-values.py (`bootstrap24`), which replays the
 * documented procedure independently: the same generator (checked against the reference C code in
 * prng.spec.ts), rows materialised with np.argsort(kind='stable') positions, each resample's
 * figures from scratch with numpy (ROC-AUC by the trapezoid over the ROC curve, as scikit-learn),
 * and np.quantile(method='linear') at 5 % and 95 %.
 */
const Y24 = [1, 0, 0, 1, 1, 0, 0, 0, 1, 0, 1, 0, 0, 1, 0, 0, 1, 1, 0, 0, 1, 0, 0, 1];
const S24 = [
  0.82, 0.35, 0.4, 0.6, 0.91, 0.12, 0.4, 0.55, 0.4, 0.07, 0.73, 0.28, 0.5, 0.66, 0.19, 0.44, 0.35,
  0.88, 0.61, 0.02, 0.47, 0.33, 0.5, 0.79,
];
const G24 = 'f m f m f m f m f m f m f m f m f m f m f m x x'.split(' ');
const input24: ClassificationInput = {
  labels: Y24,
  scores: S24,
  threshold: 0.5,
  attributes: [{ name: 'sex', values: G24 }],
  fairness: { minGroupSize: 3, disparateImpactThreshold: 0.8 },
};
const options: BootstrapOptions = { resamples: 40, seed: 2024, confidenceLevel: 0.9 };

describe('bootstrap intervals', () => {
  it('match an independent replay of the documented procedure', () => {
    const b = bootstrapIntervals(prepareSample(input24), options);
    const expected: Record<string, [number, number, number]> = {
      accuracy: [0.5833333333333334, 0.8770833333333332, 40],
      precision: [0.4468181818181817, 0.8898989898989897, 40],
      recall: [0.4980769230769231, 0.9004545454545454, 40],
      f1: [0.4937499999999999, 0.8444444444444442, 40],
      rocAuc: [0.7368000518000517, 0.9723849067599069, 40],
      logLoss: [0.3716713346810155, 0.5521191268713754, 40],
      brierScore: [0.11086354166666666, 0.190301875, 40],
      demographicParityDifference: [0.045104895104895064, 0.4463888888888888, 40],
      disparateImpact: [0.16285714285714278, 0.9169871794871796, 40],
      equalizedOddsDifference: [0.16666666666666666, 1.0, 40],
      // In 3 resamples fewer than two groups had a positive label: no TPR difference there.
      equalOpportunityDifference: [0.19333333333333327, 1.0, 37],
    };
    const actual = { ...b.performance, ...b.fairness[0] };
    for (const [figure, [lower, upper, valid]] of Object.entries(expected)) {
      const interval = actual[figure as keyof typeof actual];
      if (typeof interval !== 'object') throw new Error(`no interval for ${figure}`);
      expect([figure, interval.validResamples]).toEqual([figure, valid]);
      expect(interval.lower).toBeCloseTo(lower, 12);
      expect(interval.upper).toBeCloseTo(upper, 12);
    }
    expect(b).toMatchObject({
      method: 'percentile',
      resampling: 'rows with replacement, not stratified',
      prng: 'xoshiro128** 1.1, state from SplitMix64(seed)',
      seed: 2024,
      resamples: 40,
      confidenceLevel: 0.9,
    });
    expect(b.fairness[0]?.attribute).toBe('sex');
  });

  it('gives identical intervals for the same seed and different ones for another', () => {
    const sample = prepareSample(input24);
    const first = bootstrapIntervals(sample, options);
    expect(bootstrapIntervals(prepareSample(input24), options)).toEqual(first);
    expect(evaluateClassification(input24, options).bootstrap).toEqual(first);
    const other = bootstrapIntervals(sample, { ...options, seed: 2025 });
    expect(other.performance.rocAuc).not.toEqual(first.performance.rocAuc);
    expect(other.fairness[0]?.disparateImpact).not.toEqual(first.fairness[0]?.disparateImpact);
  });

  it('brackets the point estimate on a larger sample', () => {
    const n = 2000;
    const labels = Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 1 : 0));
    const scores = Array.from(
      { length: n },
      (_, i) => (i % 3 === 0 ? 0.3 : 0) + ((i * 7919) % 1000) / 1500,
    );
    const e = evaluateClassification(
      { labels, scores, threshold: 0.5 },
      { resamples: 100, seed: 1, confidenceLevel: 0.95 },
    );
    for (const figure of ['accuracy', 'rocAuc', 'logLoss', 'brierScore'] as const) {
      const point = e.performance[figure] ?? Number.NaN;
      const interval = e.bootstrap?.performance[figure];
      expect(interval?.lower).toBeLessThan(point);
      expect(interval?.upper).toBeGreaterThan(point);
    }
  });

  it('gives a result that survives JSON unchanged (no NaN, Infinity or undefined)', () => {
    const e = evaluateClassification(
      { ...input24, attributes: [{ name: 'sex', values: G24, referenceGroup: 'x' }] },
      options,
    );
    expect(JSON.parse(JSON.stringify(e))).toStrictEqual(e);
  });

  it('reports progress one resample at a time', () => {
    const run = bootstrapResamples(prepareSample(input24), { ...options, resamples: 3 });
    expect([run.next().value, run.next().value, run.next().value]).toEqual([1, 2, 3]);
    const last = run.next();
    expect(last.done).toBe(true);
  });

  it('works on one row: every resample is that row', () => {
    const b = bootstrapIntervals(
      prepareSample({ labels: [1], scores: [0.7], threshold: 0.5 }),
      options,
    );
    expect(b.performance.accuracy).toEqual({ lower: 1, upper: 1, validResamples: 40 });
    expect(b.performance.rocAuc).toEqual({ lower: null, upper: null, validResamples: 0 });
    expect(b.performance.logLoss.lower).toBeCloseTo(-Math.log(0.7), 15);
    expect(b.fairness).toEqual([]);
  });

  it('refuses bad options before any work', () => {
    const sample = prepareSample(input24);
    for (const bad of [
      { ...options, resamples: 0 },
      { ...options, resamples: 2.5 },
      { ...options, seed: -1 },
      { ...options, seed: 0.5 },
      { ...options, confidenceLevel: 1 },
    ]) {
      expect(() => bootstrapIntervals(sample, bad)).toThrow(MetricInputError);
      expect(() =>
        evaluateClassification({ labels: [0], scores: [Number.NaN], threshold: 0.5 }, bad),
      ).toThrow(MetricInputError);
    }
  });
});

describe('percentileInterval', () => {
  it('interpolates linearly between order statistics, as numpy', () => {
    // np.quantile([1, 2, 3, 4, 10], [0.05, 0.95]) = [1.2, 8.8]; NaN marks an undefined resample.
    const interval = percentileInterval(Float64Array.from([4, Number.NaN, 1, 10, 3, 2]), 0.9);
    expect(interval.lower).toBeCloseTo(1.2, 12);
    expect(interval.upper).toBeCloseTo(8.8, 12);
    expect(interval.validResamples).toBe(5);
  });
});
