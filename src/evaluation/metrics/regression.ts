import { finiteCopy, requireRows, requireSameLength, type NumericColumn } from './columns.js';
import type { Note } from './classification.js';

export interface RegressionReport {
  readonly rows: number;
  /** √(Σ(y − ŷ)² / n). */
  readonly rmse: number;
  /** Σ|y − ŷ| / n. */
  readonly mae: number;
  /** 1 − Σ(y − ŷ)² / Σ(y − ȳ)²; null for a single row. */
  readonly r2: number | null;
  readonly notes: readonly Note[];
}

/**
 * RMSE, MAE and R² as scikit-learn computes them. R² with constant targets (Σ(y − ȳ)² = 0) is
 * 1 for perfect predictions and 0 otherwise, scikit-learn's default `force_finite=True`; the
 * targets count as constant when they are all equal, not when a rounded mean says so.
 */
export function regressionMetrics(
  targets: NumericColumn,
  predictions: NumericColumn,
): RegressionReport {
  const rows = targets.length;
  requireRows('targets', rows);
  requireSameLength('predictions', predictions.length, rows);
  const y = finiteCopy('targets', targets);
  const yHat = finiteCopy('predictions', predictions);
  let sum = 0;
  let squared = 0;
  let absolute = 0;
  let constant = true;
  const first = y[0] ?? 0;
  for (let i = 0; i < rows; i++) {
    const target = y[i] ?? 0;
    const error = target - (yHat[i] ?? 0);
    sum += target;
    squared += error * error;
    absolute += Math.abs(error);
    if (target !== first) constant = false;
  }
  const notes: Note[] = [];
  let r2: number | null;
  if (rows < 2) {
    r2 = null;
    notes.push({ figure: 'r2', reason: 'R² is undefined for a single row' });
  } else if (constant) {
    r2 = squared === 0 ? 1 : 0;
    notes.push({
      figure: 'r2',
      reason: `all targets are equal, so R² divides by zero; reported as ${r2} (scikit-learn force_finite default)`,
    });
  } else {
    const mean = sum / rows;
    let total = 0;
    for (let i = 0; i < rows; i++) total += ((y[i] ?? 0) - mean) ** 2;
    r2 = 1 - squared / total;
  }
  return { rows, rmse: Math.sqrt(squared / rows), mae: absolute / rows, r2, notes };
}
