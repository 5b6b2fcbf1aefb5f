/**
 * Latency as counts over fixed buckets, so that every replica's windows add up exactly and a
 * quantile or a rank test can be computed from the sums. Bucket i holds latencies in
 * (BOUNDS[i−1], BOUNDS[i]] ms; the bounds grow by 2^¼ (about 19 %) from 1/16 ms, and the last
 * bucket holds everything above the last bound (about 131 s).
 */

const STEPS_PER_DOUBLING = 4;
const FIRST_EXPONENT = -4 * STEPS_PER_DOUBLING; // 2^-4 ms
const LAST_EXPONENT = 17 * STEPS_PER_DOUBLING; // 2^17 ms

export const LATENCY_BOUNDS_MS: readonly number[] = Array.from(
  { length: LAST_EXPONENT - FIRST_EXPONENT + 1 },
  (_, i) => 2 ** ((FIRST_EXPONENT + i) / STEPS_PER_DOUBLING),
);

/** Bounds plus the overflow bucket. */
export const LATENCY_BUCKETS = LATENCY_BOUNDS_MS.length + 1;

export function emptyLatencyBuckets(): number[] {
  return new Array<number>(LATENCY_BUCKETS).fill(0);
}

/** The bucket of a latency in milliseconds. */
export function latencyBucket(ms: number): number {
  const bound = (i: number): number => LATENCY_BOUNDS_MS[i] ?? Infinity;
  if (!(ms > bound(0))) return 0;
  const i = Math.ceil(Math.log2(ms) * STEPS_PER_DOUBLING) - FIRST_EXPONENT;
  // Floating point may land one bucket off at an exact bound; correct it.
  let b = Math.min(Math.max(i, 0), LATENCY_BUCKETS - 1);
  while (b > 0 && ms <= bound(b - 1)) b--;
  while (b < LATENCY_BOUNDS_MS.length && ms > bound(b)) b++;
  return b;
}

/**
 * The q-quantile (0 < q ≤ 1) as the upper bound of the bucket it falls in: never below the
 * true value, at most one bucket (19 %) above it. Null for no data; +Infinity in the overflow.
 */
export function latencyQuantile(counts: readonly number[], q: number): number | null {
  let total = 0;
  for (const c of counts) total += c;
  if (total === 0) return null;
  const rank = Math.ceil(q * total);
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    seen += counts[i] ?? 0;
    if (seen >= rank) return LATENCY_BOUNDS_MS[i] ?? Infinity;
  }
  return Infinity;
}

/** Element-wise sum into `into` (same length). */
export function addBuckets(into: number[], counts: readonly number[]): void {
  for (let i = 0; i < into.length; i++) into[i] = (into[i] ?? 0) + (counts[i] ?? 0);
}
