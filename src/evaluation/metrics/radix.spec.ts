import { describe, expect, it } from '@jest/globals';
import { keyValues, radixSort, sortKeys } from './radix.js';

function iota(n: number): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => i);
}

describe('radixSort over float sort keys', () => {
  const values = [
    0.5,
    -2.25,
    1e-300,
    3,
    -1e300,
    0,
    0.5,
    -7.75,
    1e300,
    -1e-300,
    3,
    0.1,
    -0,
    2 ** -149,
  ];

  it('orders float64 values numerically, ties (-0 with +0) in row order (stable)', () => {
    const input = Float64Array.from(values);
    const { keys, payload } = radixSort(sortKeys(input), iota(values.length));
    const order = Array.from(payload ?? []);
    const expected = values
      .map((v, i) => [v, i] as const)
      .sort((a, b) => a[0] - b[0] || a[1] - b[1])
      .map(([, i]) => i);
    expect(order).toEqual(expected);
    // -0 comes back as +0: the two are one score.
    expect(Array.from(keyValues(keys))).toEqual(
      [...values].sort((a, b) => a - b).map((v) => (v === 0 ? 0 : v)),
    );
  });

  it('uses one 32-bit word when every value is a float32, and two otherwise', () => {
    expect(sortKeys(Float64Array.from([0.5, -3, 0.25]))).toHaveLength(1);
    expect(sortKeys(Float32Array.from([0.1, 0.2]))).toHaveLength(1);
    expect(sortKeys(Float64Array.from([0.1, 0.2]))).toHaveLength(2);
  });

  it('orders float32 values the same as a comparison sort, over many random rows', () => {
    let state = 17;
    const next = (): number => {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      return state / 2 ** 32;
    };
    const input = Float32Array.from({ length: 5000 }, () => Math.round((next() - 0.3) * 200) / 8);
    const { payload } = radixSort(sortKeys(input), iota(input.length));
    const expected = Array.from(iota(input.length)).sort(
      (a, b) => (input[a] ?? 0) - (input[b] ?? 0) || a - b,
    );
    expect(Array.from(payload ?? [])).toEqual(expected);
  });

  it('sorts keys alone when there is no payload', () => {
    const { keys, payload } = radixSort(sortKeys(Float64Array.from([3.5, -1.1, 2.2])), null);
    expect(payload).toBeNull();
    expect(Array.from(keyValues(keys))).toEqual([-1.1, 2.2, 3.5]);
  });
});
