import { describe, expect, it } from '@jest/globals';
import {
  emptyLatencyBuckets,
  LATENCY_BOUNDS_MS,
  LATENCY_BUCKETS,
  latencyBucket,
  latencyQuantile,
} from './latency-histogram.js';

describe('latency histogram', () => {
  it('puts every latency in the bucket whose bounds hold it', () => {
    for (const ms of [0, 0.01, 0.0625, 0.07, 1, 1.5, 2, 3.3, 10, 250, 1000, 131_072]) {
      const b = latencyBucket(ms);
      if (b > 0) expect(ms).toBeGreaterThan(LATENCY_BOUNDS_MS[b - 1]!);
      expect(ms).toBeLessThanOrEqual(LATENCY_BOUNDS_MS[b]!);
    }
    expect(latencyBucket(1e9)).toBe(LATENCY_BUCKETS - 1);
    expect(latencyBucket(2)).toBe(LATENCY_BOUNDS_MS.indexOf(2));
  });

  it('quantiles are the upper bound of the bucket, never below the truth', () => {
    const counts = emptyLatencyBuckets();
    for (let i = 1; i <= 100; i++) counts[latencyBucket(i)]! += 1;
    const p99 = latencyQuantile(counts, 0.99)!;
    expect(p99).toBeGreaterThanOrEqual(99);
    expect(p99).toBeLessThan(99 * 1.19);
    expect(latencyQuantile(emptyLatencyBuckets(), 0.99)).toBeNull();
  });
});
