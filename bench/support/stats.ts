/** The median (the mean of the two middle values of an even count; NaN for none). */
export function median(values: Iterable<number>): number {
  const sorted = Float64Array.from(values).sort();
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] ?? Number.NaN)
    : sorted.length === 0
      ? Number.NaN
      : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** The q-quantile of ascending values, nearest rank (NaN for none). */
export function quantile(sorted: Float64Array, q: number): number {
  const n = sorted.length;
  return n === 0 ? Number.NaN : (sorted[Math.min(n - 1, Math.ceil(q * n) - 1)] ?? 0);
}
