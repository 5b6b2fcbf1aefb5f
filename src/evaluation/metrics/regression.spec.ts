import { describe, expect, it } from '@jest/globals';
import { MetricInputError, NonFiniteValueError } from './errors.js';
import { regressionMetrics } from './regression.js';

describe('regressionMetrics', () => {
  it('matches scikit-learn’s formulas on a small set', () => {
    // reference-values.py `regression`: errors 0.5, −0.5, 0, −1, 0.3 → MAE 2.3/5 = 0.46,
    // RMSE √(1.59/5); R² = 1 − 1.59 / 30.592 (Σ(y − ȳ)² with ȳ = 3.14).
    const exact = regressionMetrics(Float64Array.from([3, -0.5, 2, 7, 4.2]), [2.5, 0, 2, 8, 3.9]);
    expect(exact.mae).toBeCloseTo(0.46, 15);
    expect(exact.rmse).toBeCloseTo(0.5639148871948674, 15);
    expect(exact.r2).toBeCloseTo(0.9480256276150627, 15);
    expect(exact.notes).toEqual([]);
    expect(exact.rows).toBe(5);
  });

  it('reports R² of constant targets as scikit-learn does: 1 if perfect, else 0, with a note', () => {
    // 0.1 three times: a rounded mean would give Σ(y − ȳ)² ≈ 1e-33, not 0; equality decides.
    const perfect = regressionMetrics([0.1, 0.1, 0.1], [0.1, 0.1, 0.1]);
    expect(perfect.r2).toBe(1);
    const off = regressionMetrics([0.1, 0.1, 0.1], [0.1, 0.2, 0.1]);
    expect(off.r2).toBe(0);
    expect(off.notes[0]?.reason).toBe(
      'all targets are equal, so R² divides by zero; reported as 0 (scikit-learn force_finite default)',
    );
    expect(off.mae).toBeCloseTo(0.1 / 3, 15);
  });

  it('has no R² for one row, but RMSE and MAE', () => {
    const r = regressionMetrics([2], [3.5]);
    expect(r).toEqual({
      rows: 1,
      rmse: 1.5,
      mae: 1.5,
      r2: null,
      notes: [{ figure: 'r2', reason: 'R² is undefined for a single row' }],
    });
  });

  it('refuses non-finite values with the row, mismatched lengths and empty input', () => {
    expect(() => regressionMetrics([1, 2], [1, Number.POSITIVE_INFINITY])).toThrow(
      new NonFiniteValueError('predictions', 1, Number.POSITIVE_INFINITY),
    );
    expect(() => regressionMetrics([Number.NaN], [1])).toThrow(
      'targets: NaN is not a finite number at row index 0',
    );
    expect(() => regressionMetrics([1, 2], [1])).toThrow(MetricInputError);
    expect(() => regressionMetrics([], [])).toThrow(MetricInputError);
  });
});
