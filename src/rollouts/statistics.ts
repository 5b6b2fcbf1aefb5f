/**
 * The tests the rollout controller uses so that a fixed threshold does not act on noise: the
 * candidate's rate is compared with live's, or with the threshold itself, and only a
 * difference unlikely under chance counts. Pure arithmetic; each result carries what
 * the evidence needs (test, sample sizes, statistic, p-value).
 */

export type Alternative = 'greater' | 'less' | 'two-sided';

export interface TestResult {
  readonly test:
    | 'two-proportion z'
    | 'two-proportion ratio z'
    | 'one-proportion z'
    | 'Mann-Whitney U'
    | 'Hanley-McNeil z';
  readonly alternative: Alternative;
  readonly n1: number;
  readonly n2: number | null;
  readonly statistic: number;
  readonly pValue: number;
}

/**
 * erfc(x), Chebyshev fit with fractional error below 1.2e-7 everywhere (Press et al.,
 * Numerical Recipes, §6.2): ample for p-values compared with levels like 0.05 or 0.001.
 */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t *
                              (-1.13520398 +
                                t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** P(Z > z) for a standard normal Z. */
export function upperTail(z: number): number {
  return 0.5 * erfc(z / Math.SQRT2);
}

function pValueOf(z: number, alternative: Alternative): number {
  if (Number.isNaN(z)) return 1;
  switch (alternative) {
    case 'greater':
      return upperTail(z);
    case 'less':
      return upperTail(-z);
    case 'two-sided':
      return Math.min(1, 2 * upperTail(Math.abs(z)));
  }
}

function checkCount(field: string, x: number, n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`${field}: n must be a positive integer`);
  if (!Number.isInteger(x) || x < 0 || x > n)
    throw new RangeError(`${field}: the count must be an integer from 0 to n`);
}

/**
 * Pooled two-proportion z-test of p₁ = x₁/n₁ against p₂ = x₂/n₂; `greater` asks whether p₁ is
 * above p₂. When the pooled rate is 0 or 1 both samples agree exactly: z = 0, p = 1 (two-sided)
 * or 0.5.
 */
export function twoProportionTest(
  x1: number,
  n1: number,
  x2: number,
  n2: number,
  alternative: Alternative,
): TestResult {
  checkCount('sample 1', x1, n1);
  checkCount('sample 2', x2, n2);
  const pooled = (x1 + x2) / (n1 + n2);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  const z = se === 0 ? 0 : (x1 / n1 - x2 / n2) / se;
  return {
    test: 'two-proportion z',
    alternative,
    n1,
    n2,
    statistic: z,
    pValue: pValueOf(z, alternative),
  };
}

/**
 * Wald z-test of a ratio of two proportions against a margin: H₀ p₁ ≥ ratio · p₂ (`less`, the
 * four-fifths question: is group 1 selected at less than `ratio` times group 2's rate beyond
 * chance?), on the contrast p₁ − ratio·p₂ with unpooled variances.
 */
export function ratioTest(
  x1: number,
  n1: number,
  x2: number,
  n2: number,
  ratio: number,
  alternative: Alternative,
): TestResult {
  checkCount('sample 1', x1, n1);
  checkCount('sample 2', x2, n2);
  const p1 = x1 / n1;
  const p2 = x2 / n2;
  const se = Math.sqrt((p1 * (1 - p1)) / n1 + (ratio * ratio * p2 * (1 - p2)) / n2);
  const d = p1 - ratio * p2;
  const z = se === 0 ? (d === 0 ? 0 : Math.sign(d) * Infinity) : d / se;
  return {
    test: 'two-proportion ratio z',
    alternative,
    n1,
    n2,
    statistic: z,
    pValue: pValueOf(z, alternative),
  };
}

/** z-test of p = x/n against a fixed p₀ in (0, 1); `greater` asks whether p is above p₀. */
export function oneProportionTest(
  x: number,
  n: number,
  p0: number,
  alternative: Alternative,
): TestResult {
  checkCount('sample', x, n);
  if (!(p0 > 0 && p0 < 1)) throw new RangeError('p0 must be strictly between 0 and 1');
  const z = (x / n - p0) / Math.sqrt((p0 * (1 - p0)) / n);
  return {
    test: 'one-proportion z',
    alternative,
    n1: n,
    n2: null,
    statistic: z,
    pValue: pValueOf(z, alternative),
  };
}

/**
 * Mann-Whitney U on two samples given as counts over the same ordered bins (a latency
 * histogram): values in one bin are ties and get the bin's mid-rank. `greater` asks whether
 * sample 1 tends to be larger. Normal approximation with the tie correction and a continuity
 * correction of ½, as scipy's `mannwhitneyu(method='asymptotic')`.
 */
export function mannWhitneyBinned(
  counts1: readonly number[],
  counts2: readonly number[],
  alternative: Alternative,
): TestResult {
  if (counts1.length !== counts2.length) throw new RangeError('the samples need the same bins');
  let n1 = 0;
  let n2 = 0;
  for (let i = 0; i < counts1.length; i++) {
    n1 += counts1[i] ?? 0;
    n2 += counts2[i] ?? 0;
  }
  if (n1 < 1 || n2 < 1) throw new RangeError('both samples need at least one value');
  // U₁ = Σ over sample-1 values of (sample-2 values below) + ½ (sample-2 values tied).
  let u1 = 0;
  let below2 = 0;
  let tieTerm = 0;
  for (let i = 0; i < counts1.length; i++) {
    const c1 = counts1[i] ?? 0;
    const c2 = counts2[i] ?? 0;
    u1 += c1 * (below2 + c2 / 2);
    below2 += c2;
    const t = c1 + c2;
    tieTerm += t * t * t - t;
  }
  const n = n1 + n2;
  const mean = (n1 * n2) / 2;
  const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1) || 1));
  const sd = Math.sqrt(Math.max(variance, 0));
  let z = 0;
  if (sd > 0) {
    const d = u1 - mean;
    switch (alternative) {
      case 'greater':
        z = (d - 0.5) / sd;
        break;
      case 'less':
        z = (d + 0.5) / sd;
        break;
      case 'two-sided':
        z = (Math.sign(d) * Math.max(Math.abs(d) - 0.5, 0)) / sd;
        break;
    }
  }
  return {
    test: 'Mann-Whitney U',
    alternative,
    n1,
    n2,
    statistic: u1,
    pValue: sd > 0 ? pValueOf(z, alternative) : alternative === 'two-sided' ? 1 : 0.5,
  };
}

/**
 * Hanley & McNeil (1982) standard error of an AUC from n₁ positives and n₂ negatives, and the
 * z-test of two AUCs measured on independent samples (the two arms of an A/B test).
 */
export function aucStandardError(auc: number, positives: number, negatives: number): number {
  const q1 = auc / (2 - auc);
  const q2 = (2 * auc * auc) / (1 + auc);
  const v =
    (auc * (1 - auc) + (positives - 1) * (q1 - auc * auc) + (negatives - 1) * (q2 - auc * auc)) /
    (positives * negatives);
  return Math.sqrt(Math.max(v, 0));
}

export function aucDifferenceTest(
  a: { readonly auc: number; readonly positives: number; readonly negatives: number },
  b: { readonly auc: number; readonly positives: number; readonly negatives: number },
  alternative: Alternative,
): TestResult {
  const se = Math.hypot(
    aucStandardError(a.auc, a.positives, a.negatives),
    aucStandardError(b.auc, b.positives, b.negatives),
  );
  const z = se === 0 ? 0 : (a.auc - b.auc) / se;
  return {
    test: 'Hanley-McNeil z',
    alternative,
    n1: a.positives + a.negatives,
    n2: b.positives + b.negatives,
    statistic: z,
    pValue: pValueOf(z, alternative),
  };
}
