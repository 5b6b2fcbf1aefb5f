import type { Note } from './classification.js';
import { FN, FP, TN, TP, type FairnessPolicy, type PreparedAttribute } from './scored-sample.js';

export const FAIRNESS_FIGURES = [
  'demographicParityDifference',
  'disparateImpact',
  'equalizedOddsDifference',
  'equalOpportunityDifference',
] as const;
export type FairnessFigure = (typeof FAIRNESS_FIGURES)[number];

export type FairnessValues = Record<FairnessFigure, number | null>;

/** One group against the attribute's reference group: differences are group − reference. */
export interface ReferenceComparison {
  readonly selectionRateDifference: number;
  /** Group selection rate / reference selection rate; null when the reference selects no one. */
  readonly selectionRateRatio: number | null;
  readonly truePositiveRateDifference: number | null;
  readonly falsePositiveRateDifference: number | null;
  /** max(|TPR difference|, |FPR difference|) over those defined. */
  readonly equalizedOddsDifference: number | null;
  /** ratio >= threshold; null when the ratio is undefined or either group is below minimum. */
  readonly passesFourFifths: boolean | null;
}

export interface GroupFigures {
  readonly group: string;
  readonly count: number;
  /** Fewer rows than the policy's minimum: shown, but left out of the headline figures. */
  readonly belowMinimumSize: boolean;
  /** Rows labelled 1. */
  readonly positives: number;
  /** positives / count. */
  readonly baseRate: number;
  /** Rows predicted positive (score >= threshold). */
  readonly selected: number;
  /** selected / count. */
  readonly selectionRate: number;
  /** TP / positives; null without positives. */
  readonly truePositiveRate: number | null;
  /** FP / negatives; null without negatives. */
  readonly falsePositiveRate: number | null;
  readonly vsReference: ReferenceComparison | null;
}

export interface AttributeFairness extends FairnessValues {
  readonly attribute: string;
  readonly minGroupSize: number;
  readonly disparateImpactThreshold: number;
  /** disparateImpact >= threshold; null when disparate impact is undefined. */
  readonly passesFourFifths: boolean | null;
  readonly referenceGroup: string | null;
  /** Groups counted in the headline figures (at least minGroupSize rows). */
  readonly comparedGroups: readonly string[];
  readonly groups: readonly GroupFigures[];
  readonly notes: readonly Note[];
}

interface GroupCounts {
  readonly count: number;
  readonly positives: number;
  readonly negatives: number;
  readonly selected: number;
  readonly tp: number;
  readonly fp: number;
}

function groupCounts(cells: Float64Array, g: number): GroupCounts {
  const tn = cells[g * 4 + TN] ?? 0;
  const fp = cells[g * 4 + FP] ?? 0;
  const fn = cells[g * 4 + FN] ?? 0;
  const tp = cells[g * 4 + TP] ?? 0;
  return {
    count: tn + fp + fn + tp,
    positives: fn + tp,
    negatives: tn + fp,
    selected: fp + tp,
    tp,
    fp,
  };
}

/** A rate as its numerator and denominator, so ratios of rates are one rounding, not three. */
interface Rate {
  readonly num: number;
  readonly den: number;
}

interface Spread {
  readonly min: Rate;
  readonly max: Rate;
  readonly groups: number;
}

function spread(rates: readonly (Rate | null)[]): Spread | null {
  let min: Rate | null = null;
  let max: Rate | null = null;
  let groups = 0;
  for (const rate of rates) {
    if (rate === null) continue;
    groups++;
    // a/b < c/d ⇔ a·d < c·b for positive denominators; exact for integer counts below 2^26.
    if (min === null || rate.num * min.den < min.num * rate.den) min = rate;
    if (max === null || rate.num * max.den > max.num * rate.den) max = rate;
  }
  return min === null || max === null || groups < 2 ? null : { min, max, groups };
}

function difference(s: Spread | null): number | null {
  return s === null ? null : s.max.num / s.max.den - s.min.num / s.min.den;
}

/**
 * The headline figures over the eligible groups (`eligible[g] === 1`): each needs at least two
 * groups where its rate is defined, else it is null.
 *  - demographic parity difference = max − min selection rate;
 *  - disparate impact = min / max selection rate (null when no group selects anyone: 0/0);
 *  - equal opportunity difference = max − min TPR over groups with positives;
 *  - equalized odds difference = the larger of that and max − min FPR over groups with
 *    negatives (whichever of the two is defined).
 */
export function fairnessValues(cells: Float64Array, eligible: Uint8Array): FairnessValues {
  const selection: (Rate | null)[] = [];
  const tpr: (Rate | null)[] = [];
  const fpr: (Rate | null)[] = [];
  for (let g = 0; g < eligible.length; g++) {
    if (eligible[g] !== 1) continue;
    const c = groupCounts(cells, g);
    selection.push(c.count > 0 ? { num: c.selected, den: c.count } : null);
    tpr.push(c.positives > 0 ? { num: c.tp, den: c.positives } : null);
    fpr.push(c.negatives > 0 ? { num: c.fp, den: c.negatives } : null);
  }
  const selectionSpread = spread(selection);
  const tprDifference = difference(spread(tpr));
  const fprDifference = difference(spread(fpr));
  const odds = [tprDifference, fprDifference].filter((d) => d !== null);
  return {
    demographicParityDifference: difference(selectionSpread),
    disparateImpact:
      selectionSpread === null || selectionSpread.max.num === 0
        ? null
        : (selectionSpread.min.num * selectionSpread.max.den) /
          (selectionSpread.min.den * selectionSpread.max.num),
    equalizedOddsDifference: odds.length === 0 ? null : Math.max(...odds),
    equalOpportunityDifference: tprDifference,
  };
}

export function eligibleGroups(attribute: PreparedAttribute, policy: FairnessPolicy): Uint8Array {
  return Uint8Array.from(attribute.sizes, (size) => (size >= policy.minGroupSize ? 1 : 0));
}

export function attributeFairness(
  attribute: PreparedAttribute,
  cells: Float64Array,
  policy: FairnessPolicy,
): AttributeFairness {
  const eligible = eligibleGroups(attribute, policy);
  const values = fairnessValues(cells, eligible);
  const threshold = policy.disparateImpactThreshold;
  const counts = attribute.groups.map((_, g) => groupCounts(cells, g));
  const reference = attribute.reference >= 0 ? counts[attribute.reference] : undefined;
  const referenceEligible = eligible[attribute.reference] === 1;
  const groups = attribute.groups.map((group, g): GroupFigures => {
    const c = counts[g] ?? groupCounts(cells, g);
    return {
      group,
      count: c.count,
      belowMinimumSize: eligible[g] !== 1,
      positives: c.positives,
      baseRate: c.positives / c.count,
      selected: c.selected,
      selectionRate: c.selected / c.count,
      truePositiveRate: c.positives > 0 ? c.tp / c.positives : null,
      falsePositiveRate: c.negatives > 0 ? c.fp / c.negatives : null,
      vsReference:
        reference === undefined
          ? null
          : compare(c, reference, threshold, eligible[g] === 1 && referenceEligible),
    };
  });
  const compared = attribute.groups.filter((_, g) => eligible[g] === 1);
  return {
    attribute: attribute.name,
    minGroupSize: policy.minGroupSize,
    disparateImpactThreshold: threshold,
    ...values,
    passesFourFifths: values.disparateImpact === null ? null : values.disparateImpact >= threshold,
    referenceGroup:
      reference === undefined ? null : (attribute.groups[attribute.reference] ?? null),
    comparedGroups: compared,
    groups,
    notes: fairnessNotes(attribute, groups, compared, values, policy, referenceEligible),
  };
}

function compare(
  c: GroupCounts,
  r: GroupCounts,
  threshold: number,
  bothEligible: boolean,
): ReferenceComparison {
  const ratio = r.selected === 0 ? null : (c.selected * r.count) / (c.count * r.selected);
  const tprDifference =
    c.positives > 0 && r.positives > 0 ? c.tp / c.positives - r.tp / r.positives : null;
  const fprDifference =
    c.negatives > 0 && r.negatives > 0 ? c.fp / c.negatives - r.fp / r.negatives : null;
  const odds = [tprDifference, fprDifference].filter((d) => d !== null).map(Math.abs);
  return {
    selectionRateDifference: c.selected / c.count - r.selected / r.count,
    selectionRateRatio: ratio,
    truePositiveRateDifference: tprDifference,
    falsePositiveRateDifference: fprDifference,
    equalizedOddsDifference: odds.length === 0 ? null : Math.max(...odds),
    passesFourFifths: ratio === null || !bothEligible ? null : ratio >= threshold,
  };
}

function fairnessNotes(
  attribute: PreparedAttribute,
  groups: readonly GroupFigures[],
  compared: readonly string[],
  values: FairnessValues,
  policy: FairnessPolicy,
  referenceEligible: boolean,
): Note[] {
  const notes: Note[] = [];
  const list = (names: readonly string[]): string => names.map((n) => JSON.stringify(n)).join(', ');
  const small = groups.filter((g) => g.belowMinimumSize).map((g) => g.group);
  if (small.length > 0) {
    notes.push({
      figure: 'groups',
      reason: `${list(small)} ha${small.length === 1 ? 's' : 've'} fewer than ${policy.minGroupSize} rows: shown and flagged, left out of the headline figures`,
    });
  }
  if (compared.length < 2) {
    const reason = `${compared.length === 0 ? 'no group has' : `only ${list(compared)} has`} at least ${policy.minGroupSize} rows: a comparison needs two groups`;
    for (const figure of FAIRNESS_FIGURES) notes.push({ figure, reason });
  } else {
    notes.push(...rateNotes(groups, values, list));
  }
  if (attribute.reference >= 0 && !referenceEligible) {
    notes.push({
      figure: 'vsReference',
      reason: `the reference group ${JSON.stringify(attribute.groups[attribute.reference] ?? '')} has fewer than ${policy.minGroupSize} rows: comparisons shown without a verdict`,
    });
  }
  return notes;
}

function rateNotes(
  groups: readonly GroupFigures[],
  values: FairnessValues,
  list: (names: readonly string[]) => string,
): Note[] {
  const notes: Note[] = [];
  if (values.disparateImpact === null) {
    notes.push({
      figure: 'disparateImpact',
      reason: 'no compared group has any row predicted positive: the ratio 0/0 is undefined',
    });
  }
  const comparedGroups = groups.filter((g) => !g.belowMinimumSize);
  const noPositives = comparedGroups.filter((g) => g.truePositiveRate === null).map((g) => g.group);
  const noNegatives = comparedGroups
    .filter((g) => g.falsePositiveRate === null)
    .map((g) => g.group);
  if (noPositives.length > 0) {
    notes.push({
      figure: 'equalOpportunityDifference',
      reason: `${list(noPositives)}: no row labelled positive, so no true positive rate; not counted in equal opportunity, and in equalized odds only for the false positive rate${values.equalOpportunityDifference === null ? '; fewer than two groups remain' : ''}`,
    });
  }
  if (noNegatives.length > 0) {
    notes.push({
      figure: 'equalizedOddsDifference',
      reason: `${list(noNegatives)}: no row labelled negative, so no false positive rate; counted for the true positive rate only`,
    });
  }
  return notes;
}
