import { describe, expect, it } from '@jest/globals';
import { MetricInputError } from './errors.js';
import { multiplyHigh, Xoshiro128StarStar } from './prng.js';

/**
 * Expected outputs from the published reference C code (splitmix64.c and xoshiro128starstar.c
 * of https://prng.di.unimi.it/, with Lemire's bounded draw as in arXiv:1805.10941), compiled with
 * gcc and seeded as documented: s0, s1 = low, high half of the first SplitMix64 output, s2, s3 of
 * the second. reference-values.py re-implements the same in Python and prints the same numbers.
 */
describe('Xoshiro128StarStar', () => {
  it('reproduces the reference C outputs', () => {
    const outputs = (seed: number): number[] => {
      const random = new Xoshiro128StarStar(seed);
      return Array.from({ length: 6 }, () => random.nextUint32());
    };
    expect(outputs(0)).toEqual([
      3737715805, 2584255861, 2876756834, 3286328325, 1553311962, 1625202774,
    ]);
    expect(outputs(42)).toEqual([
      1776835114, 4165204688, 17111135, 2317295270, 2792088233, 2554630222,
    ]);
    expect(outputs(Number.MAX_SAFE_INTEGER)).toEqual([
      1233166643, 1287031142, 661813442, 2960669951, 2601079046, 1036114921,
    ]);
  });

  it('draws bounded integers exactly as the reference Lemire method, small and large bounds', () => {
    const draws = (seed: number, n: number): number[] => {
      const random = new Xoshiro128StarStar(seed);
      return Array.from({ length: 8 }, () => random.below(n));
    };
    expect(draws(42, 10)).toEqual([4, 9, 0, 5, 6, 5, 6, 5]);
    expect(draws(7, 1_000_000)).toEqual([
      419350, 361894, 696815, 835624, 483602, 241400, 774889, 74044,
    ]);
    // Above 2^21 the product no longer fits a double: the 16-bit split path.
    expect(draws(42, 3_000_000_000)).toEqual([
      1241104989, 2909361865, 11951989, 1618612047, 1784388596, 1567811400, 2491942457, 2208723642,
    ]);
  });

  it('counts the same draws in addDraws as below() gives one by one', () => {
    for (const n of [1, 7, 1000, 3_000_000]) {
      const one = new Xoshiro128StarStar(99);
      const expected = new Map<number, number>();
      for (let d = 0; d < 500; d++) {
        const row = one.below(n);
        expected.set(row, (expected.get(row) ?? 0) + 1);
      }
      const counts = new Int32Array(n);
      const bulk = new Xoshiro128StarStar(99);
      bulk.addDraws(counts, 500);
      const actual = new Map<number, number>();
      counts.forEach((c, row) => c > 0 && actual.set(row, c));
      expect(actual).toEqual(expected);
      // Both leave the generator in the same state.
      expect(bulk.nextUint32()).toBe(one.nextUint32());
    }
  });

  it('multiplies exactly, as BigInt does', () => {
    const random = new Xoshiro128StarStar(5);
    for (let i = 0; i < 2000; i++) {
      const x = random.nextUint32();
      const n = i % 2 === 0 ? random.nextUint32() + 1 : (random.nextUint32() % 5000) + 1;
      const product = BigInt(x) * BigInt(n);
      expect(multiplyHigh(x, n)).toEqual([Number(product >> 32n), Number(product & 0xffffffffn)]);
    }
  });

  it('refuses seeds that are not non-negative safe integers', () => {
    for (const seed of [-1, 1.5, Number.NaN, 2 ** 53]) {
      expect(() => new Xoshiro128StarStar(seed)).toThrow(MetricInputError);
    }
    expect(() => new Xoshiro128StarStar(1).below(0)).toThrow(MetricInputError);
  });
});
