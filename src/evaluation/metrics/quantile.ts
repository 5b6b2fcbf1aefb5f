/**
 * The q-quantile of ascending `sorted` values by linear interpolation between order statistics
 * (Hyndman & Fan type 7, numpy's default `method='linear'`): h = (m − 1)·q, and the value
 * x[⌊h⌋] + (h − ⌊h⌋)·(x[⌊h⌋ + 1] − x[⌊h⌋]).
 */
export function linearQuantile(sorted: ArrayLike<number>, q: number): number {
  const m = sorted.length;
  if (m === 0) throw new RangeError('no values');
  const h = (m - 1) * q;
  const lo = Math.floor(h);
  const below = sorted[lo] ?? Number.NaN;
  if (lo >= m - 1) return sorted[m - 1] ?? Number.NaN;
  const above = sorted[lo + 1] ?? Number.NaN;
  return below + (h - lo) * (above - below);
}

/**
 * The position of the q-quantile in `m` ascending values by the inverted empirical distribution
 * (Hyndman & Fan type 1, numpy's `method='inverted_cdf'`): the smallest value x with
 * F(x) >= q, i.e. index ⌈m·q⌉ − 1, at least 0. With q = j / bins the product is computed in
 * integers, so there is no rounding.
 */
export function invertedCdfIndex(m: number, j: number, bins: number): number {
  return Math.max(0, Math.ceil((m * j) / bins) - 1);
}
