import { MetricInputError } from './errors.js';

/** The generator named in every bootstrap result, so that a reader can reproduce the draws. */
export const BOOTSTRAP_PRNG = 'xoshiro128** 1.1, state from SplitMix64(seed)';

const TWO_POW_32 = 4294967296;
const UINT64 = (1n << 64n) - 1n;
// Below this bound x·n < 2^53 for every 32-bit x, so the product is exact in a double.
const EXACT_PRODUCT_LIMIT = 2 ** 21;

/**
 * xoshiro128** 1.1 (Blackman & Vigna, https://prng.di.unimi.it/xoshiro128starstar.c), a small
 * generator with a published reference implementation in C, so an auditor can replay every
 * bootstrap draw outside Gatehouse. Its 128-bit state is the two 64-bit outputs of SplitMix64
 * (https://prng.di.unimi.it/splitmix64.c) started at the seed: s0, s1 are the low and high
 * halves of the first output, s2, s3 of the second. Not for anything security-related.
 */
export class Xoshiro128StarStar {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number) {
    if (!Number.isSafeInteger(seed) || seed < 0) {
      throw new MetricInputError('seed', `${String(seed)} is not an integer from 0 to 2^53 - 1`);
    }
    let state = BigInt(seed);
    const splitMix64 = (): bigint => {
      state = (state + 0x9e3779b97f4a7c15n) & UINT64;
      let z = state;
      z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & UINT64;
      z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & UINT64;
      return z ^ (z >> 31n);
    };
    // SplitMix64 is a bijection of its counter, so two consecutive outputs are never both zero:
    // the all-zero state xoshiro must avoid cannot occur.
    const first = splitMix64();
    const second = splitMix64();
    this.s0 = Number(first & 0xffffffffn) | 0;
    this.s1 = Number(first >> 32n) | 0;
    this.s2 = Number(second & 0xffffffffn) | 0;
    this.s3 = Number(second >> 32n) | 0;
  }

  /** The next output, an integer in [0, 2^32). */
  nextUint32(): number {
    const s1 = this.s1;
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /**
   * A uniform integer in [0, n), 1 <= n <= 2^32, by Lemire's multiply-and-reject method
   * (https://arxiv.org/abs/1805.10941): with x the next output, the draw is floor(x·n / 2^32),
   * and x is rejected (the next one taken) while (x·n mod 2^32) < (2^32 mod n). Unbiased.
   */
  below(n: number): number {
    const threshold = checkBound(n);
    for (;;) {
      const [draw, low] = multiplyHigh(this.nextUint32(), n);
      if (low >= threshold) return draw;
    }
  }

  /**
   * Adds `draws` uniform draws from [0, counts.length) to `counts`: one bootstrap resample as
   * the number of times each row was drawn. The same sequence as calling below() `draws` times,
   * only without a call per draw.
   */
  addDraws(counts: Int32Array, draws: number): void {
    const n = counts.length;
    const threshold = checkBound(n);
    const rows = DRAW_BLOCK;
    for (let done = 0; done < draws;) {
      const block = Math.min(DRAW_BLOCK_SIZE, draws - done);
      this.fillDraws(rows, block, n, threshold);
      // Counting apart from drawing: the generator's loop stays free of the scattered writes
      // into `counts`, whose cache misses would otherwise stall it at every draw.
      for (let d = 0; d < block; d++) {
        const row = rows[d] ?? 0;
        counts[row] = (counts[row] ?? 0) + 1;
      }
      done += block;
    }
  }

  /** The next `count` draws below `n` (by `below`'s method) into `out`. */
  private fillDraws(out: Uint32Array, count: number, n: number, threshold: number): void {
    let s0 = this.s0;
    let s1 = this.s1;
    let s2 = this.s2;
    let s3 = this.s3;
    const exact = n <= EXACT_PRODUCT_LIMIT;
    for (let d = 0; d < count;) {
      const x = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
      const t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      let draw: number;
      let low: number;
      if (exact) {
        const product = x * n;
        draw = Math.floor(product / TWO_POW_32);
        low = product - draw * TWO_POW_32;
      } else {
        // multiplyHigh inlined: no array allocated per draw.
        const high = (x >>> 16) * n;
        const highQuotient = Math.floor(high / 65536);
        const middle = (high - highQuotient * 65536) * 65536 + (x & 0xffff) * n;
        const carry = Math.floor(middle / TWO_POW_32);
        draw = highQuotient + carry;
        low = middle - carry * TWO_POW_32;
      }
      if (low < threshold) continue;
      out[d++] = draw;
    }
    this.s0 = s0;
    this.s1 = s1;
    this.s2 = s2;
    this.s3 = s3;
  }
}

/** Draws made before they are counted: 256 KiB, held in the second-level cache. */
const DRAW_BLOCK_SIZE = 65536;
const DRAW_BLOCK = new Uint32Array(DRAW_BLOCK_SIZE);

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

function checkBound(n: number): number {
  if (!Number.isInteger(n) || n < 1 || n > TWO_POW_32) {
    throw new MetricInputError('n', `${String(n)} is not an integer from 1 to 2^32`);
  }
  return TWO_POW_32 % n;
}

/** [floor(x·n / 2^32), x·n mod 2^32] exactly, for 32-bit x and n <= 2^32, in 16-bit halves. */
export function multiplyHigh(x: number, n: number): [number, number] {
  const high = (x >>> 16) * n; // < 2^48
  const low = (x & 0xffff) * n; // < 2^48
  const highQuotient = Math.floor(high / 65536);
  const middle = (high - highQuotient * 65536) * 65536 + low;
  const carry = Math.floor(middle / TWO_POW_32);
  return [highQuotient + carry, middle - carry * TWO_POW_32];
}
