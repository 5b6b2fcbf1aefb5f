import { describe, expect, it } from '@jest/globals';
import { MetricInputError, NonFiniteValueError } from './errors.js';
import { evaluateClassification } from './evaluate.js';
import type { ClassificationInput } from './scored-sample.js';

const performanceOf = (input: ClassificationInput) => evaluateClassification(input).performance;

/**
 * Ten rows with a three-way tie at 0.4 across both classes. Expected values: reference-values.py
 * (`classification10`, numpy re-implementation of scikit-learn's formulas), and by hand: of the
 * 25 positive–negative pairs, 16 are ordered correctly and 2 are tied (half credit each), so
 * ROC-AUC = (16 + 2·½) / 25 = 0.68.
 */
const labels10 = [0, 0, 1, 1, 0, 1, 0, 1, 1, 0];
const scores10 = [0.1, 0.4, 0.35, 0.8, 0.4, 0.9, 0.65, 0.4, 0.2, 0.05];

describe('classification figures', () => {
  it('match scikit-learn on a small set with tied scores', () => {
    const p = performanceOf({ labels: labels10, scores: scores10, threshold: 0.5 });
    expect(p.confusionMatrix).toEqual({
      truePositives: 2,
      falsePositives: 1,
      trueNegatives: 4,
      falseNegatives: 3,
    });
    expect(p.rows).toBe(10);
    expect(p.positives).toBe(5);
    expect(p.negatives).toBe(5);
    expect(p.accuracy).toBeCloseTo(0.6, 15);
    expect(p.precision).toBeCloseTo(2 / 3, 15);
    expect(p.recall).toBeCloseTo(0.4, 15);
    expect(p.f1).toBeCloseTo(0.5, 15);
    expect(p.rocAuc).toBeCloseTo(0.68, 15);
    expect(p.logLoss).toBeCloseTo(0.6132182017855006, 14);
    expect(p.brierScore).toBeCloseTo(0.22275, 15);
    expect(p.distinctScores).toBe(8);
    expect(p.logLossEps).toBe(2 ** -52);
    expect(p.notes).toEqual([]);
  });

  it('counts a score equal to the threshold as a positive prediction', () => {
    // reference-values.py `classification10_t04`: the three rows at exactly 0.4 become positive.
    const p = performanceOf({ labels: labels10, scores: scores10, threshold: 0.4 });
    expect(p.confusionMatrix).toEqual({
      truePositives: 3,
      falsePositives: 3,
      trueNegatives: 2,
      falseNegatives: 2,
    });
    expect(p.f1).toBeCloseTo(0.5454545454545454, 15);
    expect(p.rocAuc).toBeCloseTo(0.68, 15);
  });

  it('does not depend on row order, array type or key width', () => {
    const reference = performanceOf({ labels: labels10, scores: scores10, threshold: 0.5 });
    const permutation = [3, 9, 0, 7, 1, 8, 2, 6, 4, 5];
    const shuffled = performanceOf({
      labels: Uint8Array.from(permutation, (i) => labels10[i] ?? 0),
      scores: Float64Array.from(permutation, (i) => scores10[i] ?? 0),
      threshold: 0.5,
    });
    expect(shuffled.rocAuc).toBeCloseTo(reference.rocAuc ?? Number.NaN, 15);
    expect(shuffled.logLoss).toBeCloseTo(reference.logLoss ?? Number.NaN, 14);
    expect(shuffled.confusionMatrix).toEqual(reference.confusionMatrix);
    // Quarter steps are exact float32 values: the 32-bit key path gives the same AUC.
    const quarters = [0, 0.25, 0.25, 0.75, 0.25, 1, 0.5, 0.25, 0, 0];
    const asDoubles = performanceOf({ labels: labels10, scores: quarters, threshold: 0.5 });
    const asFloats = performanceOf({
      labels: labels10,
      scores: Float32Array.from(quarters),
      threshold: 0.5,
    });
    const nudged = performanceOf({
      labels: labels10,
      scores: quarters.map((s) => s + 1e-12),
      threshold: 0.5,
    });
    // By hand: positives 0.25, 0.75, 1, 0.25, 0 against negatives 0, 0.25, 0.25, 0.5, 0:
    // 0.25 beats two zeros and ties two 0.25s (3 each), 0.75 and 1 beat all (5 each), 0 ties
    // two zeros (1): (3 + 5 + 5 + 3 + 1) / 25 = 0.68.
    expect(asDoubles.rocAuc).toBeCloseTo(0.68, 15);
    expect(asFloats.rocAuc).toBeCloseTo(0.68, 15);
    expect(nudged.rocAuc).toBeCloseTo(0.68, 15);
  });

  it('gives ROC-AUC 0.5 when every score is tied, 1 for a perfect ranking and 0 for an inverted one', () => {
    const labels = [0, 1, 0, 1, 1, 0];
    expect(
      performanceOf({ labels, scores: [0.3, 0.3, 0.3, 0.3, 0.3, 0.3], threshold: 0.5 }).rocAuc,
    ).toBe(0.5);
    const perfect = [0.1, 0.9, 0.2, 0.8, 0.7, 0.3];
    expect(performanceOf({ labels, scores: perfect, threshold: 0.5 }).rocAuc).toBe(1);
    expect(
      performanceOf({ labels, scores: perfect.map((s) => 1 - s), threshold: 0.5 }).rocAuc,
    ).toBe(0);
    const p = performanceOf({ labels, scores: perfect, threshold: 0.5 });
    expect([p.accuracy, p.precision, p.recall, p.f1]).toEqual([1, 1, 1, 1]);
  });

  it('has no ROC-AUC, with a reason, when only one class is present', () => {
    const p = performanceOf({ labels: [1, 1, 1], scores: [0.2, 0.6, 0.9], threshold: 0.5 });
    expect(p.rocAuc).toBeNull();
    expect(p.notes).toContainEqual({
      figure: 'rocAuc',
      reason: 'only one class is present in the labels (no negatives): ROC-AUC is undefined',
    });
    // Recall 2/3 by hand; log loss −(ln 0.2 + ln 0.6 + ln 0.9)/3 and Brier (0.64 + 0.16 + 0.01)/3.
    expect(p.recall).toBeCloseTo(2 / 3, 15);
    expect(p.logLoss).toBeCloseTo(-(Math.log(0.2) + Math.log(0.6) + Math.log(0.9)) / 3, 15);
    expect(p.brierScore).toBeCloseTo(0.81 / 3, 15);
  });

  it('reports 0 for precision without positive predictions, as scikit-learn does, and says so', () => {
    const p = performanceOf({ labels: [0, 1, 0, 1], scores: [0.1, 0.2, 0.3, 0.4], threshold: 0.5 });
    expect(p.precision).toBe(0);
    expect(p.recall).toBe(0);
    expect(p.f1).toBe(0);
    expect(p.accuracy).toBe(0.5);
    expect(p.notes.map((n) => n.figure)).toEqual(['precision']);
    const none = performanceOf({ labels: [0, 0], scores: [0.1, 0.2], threshold: 0.5 });
    expect(none.notes.map((n) => n.figure)).toEqual(['precision', 'recall', 'f1', 'rocAuc']);
  });

  it('works on one row: figures where defined, null where not', () => {
    const p = performanceOf({ labels: [1], scores: [0.7], threshold: 0.5 });
    expect([p.accuracy, p.precision, p.recall, p.f1]).toEqual([1, 1, 1, 1]);
    expect(p.rocAuc).toBeNull();
    expect(p.logLoss).toBeCloseTo(-Math.log(0.7), 15);
    expect(p.brierScore).toBeCloseTo(0.09, 15);
  });

  it('clips probabilities to the machine epsilon of the scores’ type for log loss', () => {
    // A confident wrong answer: −ln(eps). Float32 scores: eps = 2^-23, loss 23·ln 2 (scikit-learn
    // computes the same in float32: 15.942384…); float64: 52·ln 2.
    const float32 = performanceOf({
      labels: [1, 0],
      scores: Float32Array.from([0, 1]),
      threshold: 0.5,
    });
    expect(float32.logLossEps).toBe(2 ** -23);
    expect(float32.logLoss).toBeCloseTo(23 * Math.LN2, 12);
    const float64 = performanceOf({ labels: [1, 0], scores: [0, 1], threshold: 0.5 });
    expect(float64.logLoss).toBeCloseTo(52 * Math.LN2, 12);
    const chosen = performanceOf({
      labels: [1, 0],
      scores: [0, 1],
      threshold: 0.5,
      logLossEps: 1e-15,
    });
    // 1 − 1e-15 rounds to a double, so the clipped 1 costs −ln(1 − (1 − 1e-15)) = 34.5396, not 34.5388
    // (numpy: -np.log(1 - np.clip(1.0, 1e-15, 1 - 1e-15)) gives the same).
    expect(chosen.logLoss).toBeCloseTo((-Math.log(1e-15) - Math.log(1 - (1 - 1e-15))) / 2, 12);
    // A perfect prediction costs −ln(1 − eps), not 0: the upper end is clipped too.
    expect(performanceOf({ labels: [1], scores: [1], threshold: 0.5 }).logLoss).toBe(
      -Math.log(1 - 2 ** -52),
    );
  });

  it('gives no log loss or Brier score for scores outside [0, 1], naming the first such row', () => {
    const p = performanceOf({ labels: [0, 1, 1], scores: [0.2, 1.5, -3], threshold: 0.5 });
    expect(p.logLoss).toBeNull();
    expect(p.brierScore).toBeNull();
    expect(p.rocAuc).toBe(0.5);
    expect(p.notes).toContainEqual({
      figure: 'logLoss',
      reason: 'the scores are not probabilities: row index 1 has 1.5, outside [0, 1]',
    });
  });

  it('refuses NaN and infinite scores with the row index', () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      const call = () =>
        performanceOf({
          labels: [0, 1, 0],
          scores: Float32Array.from([0.1, 0.2, bad]),
          threshold: 0.5,
        });
      expect(call).toThrow(NonFiniteValueError);
      expect(call).toThrow(`scores: ${String(bad)} is not a finite number at row index 2`);
      try {
        call();
      } catch (error) {
        expect(error).toMatchObject({ field: 'scores', row: 2 });
      }
    }
  });

  it('refuses mismatched lengths, empty input, non-binary labels and a non-finite threshold', () => {
    expect(() => performanceOf({ labels: [0, 1], scores: [0.1], threshold: 0.5 })).toThrow(
      'scores: has 1 rows where 2 are expected',
    );
    expect(() => performanceOf({ labels: [], scores: [], threshold: 0.5 })).toThrow(
      'labels: is empty: there is nothing to measure',
    );
    expect(() => performanceOf({ labels: [0, 2], scores: [0.1, 0.2], threshold: 0.5 })).toThrow(
      new MetricInputError('labels', '2 is not a binary label (0 or 1)', 1),
    );
    expect(() =>
      performanceOf({ labels: [0, Number.NaN], scores: [0.1, 0.2], threshold: 0.5 }),
    ).toThrow(NonFiniteValueError);
    expect(() => performanceOf({ labels: [0], scores: [0.1], threshold: Number.NaN })).toThrow(
      MetricInputError,
    );
    expect(() =>
      performanceOf({ labels: [0], scores: [0.1], threshold: 0.5, logLossEps: 0 }),
    ).toThrow(MetricInputError);
  });
});
