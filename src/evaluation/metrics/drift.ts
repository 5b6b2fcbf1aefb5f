import { finiteCopy, requireRows, type NumericColumn } from './columns.js';
import { MetricInputError, NonFiniteValueError } from './errors.js';
import { invertedCdfIndex } from './quantile.js';
import { keyValues, radixSort, sortKeys } from './radix.js';

/** Proportions below this count as this in PSI, so that an empty bin gives a finite term. */
export const PSI_EPSILON = 1e-4;

/**
 * Quantile bins of a baseline, stored with the evaluation so that later data is binned by the
 * same edges. Bin 0 is (−∞, e₁], bin j is (eⱼ, eⱼ₊₁], the last is (eₘ, +∞).
 */
export interface DriftBaseline {
  readonly count: number;
  /** Strictly increasing; at most bins − 1 of them. */
  readonly edges: readonly number[];
  /** One per bin (edges.length + 1), summing to 1; none is 0. */
  readonly proportions: readonly number[];
}

/**
 * Edges at the j/bins quantiles (j = 1 … bins − 1) by the inverted empirical distribution
 * (numpy `method='inverted_cdf'`), so every edge is a value of the data. Repeated edges (many
 * equal values) are merged and an edge equal to the maximum is dropped, so no baseline bin is
 * empty; there are then fewer than `bins` bins, down to one when every value is the same.
 */
export function driftBaseline(values: NumericColumn, bins = 10, field = 'values'): DriftBaseline {
  requireRows(field, values.length);
  if (!Number.isInteger(bins) || bins < 2 || bins > 1000) {
    throw new MetricInputError('bins', `${String(bins)} is not an integer from 2 to 1000`);
  }
  const sorted = keyValues(radixSort(sortKeys(finiteCopy(field, values)), null).keys);
  const n = sorted.length;
  const max = sorted[n - 1] ?? 0;
  const edges: number[] = [];
  for (let j = 1; j < bins; j++) {
    const edge = sorted[invertedCdfIndex(n, j, bins)] ?? max;
    if (edge < max && (edges.length === 0 || edge > (edges[edges.length - 1] ?? edge)))
      edges.push(edge);
  }
  const counts: number[] = [];
  let below = 0;
  for (const edge of edges) {
    const atOrBelow = upperBound(sorted, edge);
    counts.push(atOrBelow - below);
    below = atOrBelow;
  }
  counts.push(n - below);
  return { count: n, edges, proportions: counts.map((c) => c / n) };
}

/** Number of sorted values <= x. */
function upperBound(sorted: Float64Array, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] ?? 0) <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The bin of `value` under `edges`: the number of edges strictly below it. */
export function binIndex(edges: readonly number[], value: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((edges[mid] ?? 0) < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Share of `values` in each bin of `edges` (edges.length + 1 bins). */
export function binProportions(
  edges: readonly number[],
  values: NumericColumn,
  field = 'values',
): number[] {
  requireRows(field, values.length);
  for (let j = 0; j < edges.length; j++) {
    const edge = edges[j] ?? Number.NaN;
    if (!Number.isFinite(edge) || (j > 0 && !(edge > (edges[j - 1] ?? edge)))) {
      throw new MetricInputError('edges', 'must be finite and strictly increasing');
    }
  }
  const counts = new Float64Array(edges.length + 1);
  for (let i = 0; i < values.length; i++) {
    const value = values[i] ?? Number.NaN;
    if (!Number.isFinite(value)) throw new NonFiniteValueError(field, i, value);
    const bin = binIndex(edges, value);
    counts[bin] = (counts[bin] ?? 0) + 1;
  }
  return Array.from(counts, (c) => c / values.length);
}

/**
 * Population stability index: Σ (aᵢ − bᵢ)·ln(aᵢ / bᵢ) over bins, with b the baseline and a the
 * actual proportions, each first raised to at least `epsilon` (no renormalisation after), so an
 * empty bin contributes a large but finite term instead of infinity.
 */
export function psi(
  baseline: readonly number[],
  actual: readonly number[],
  epsilon = PSI_EPSILON,
): number {
  if (baseline.length === 0) throw new MetricInputError('baseline', 'has no bins');
  if (actual.length !== baseline.length) {
    throw new MetricInputError(
      'actual',
      `has ${actual.length} bins where the baseline has ${baseline.length}`,
    );
  }
  if (!(epsilon > 0 && epsilon < 1))
    throw new MetricInputError('epsilon', `${String(epsilon)} is not in (0, 1)`);
  checkProportions('baseline', baseline);
  checkProportions('actual', actual);
  let index = 0;
  for (let j = 0; j < baseline.length; j++) {
    const b = Math.max(baseline[j] ?? 0, epsilon);
    const a = Math.max(actual[j] ?? 0, epsilon);
    index += (a - b) * Math.log(a / b);
  }
  return index;
}

/** PSI of new values against a stored baseline. */
export function driftPsi(baseline: DriftBaseline, values: NumericColumn, field = 'values'): number {
  return psi(baseline.proportions, binProportions(baseline.edges, values, field));
}

function checkProportions(field: string, proportions: readonly number[]): void {
  let sum = 0;
  for (let j = 0; j < proportions.length; j++) {
    const p = proportions[j] ?? Number.NaN;
    if (!Number.isFinite(p) || p < 0 || p > 1) {
      throw new MetricInputError(field, `bin ${j} has ${String(p)}, not a proportion`);
    }
    sum += p;
  }
  if (Math.abs(sum - 1) > 1e-6)
    throw new MetricInputError(field, `proportions sum to ${sum}, not 1`);
}
