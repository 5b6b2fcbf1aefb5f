import { describe, expect, it } from '@jest/globals';
import { MetricInputError } from './errors.js';
import { evaluateClassification } from './evaluate.js';
import type { AttributeFairness } from './fairness.js';
import { encodeGroups } from './groups.js';
import type { AttributeColumn } from './scored-sample.js';

/**
 * A hand-computed set, threshold 0.5 (score >= 0.5 is selected):
 *
 *   group A (6 rows): labels 1 1 1 0 0 0, scores .9 .8 .3 .7 .2 .1
 *     selected 3/6 = 0.5, base rate 0.5, TPR 2/3, FPR 1/3
 *   group B (5 rows): labels 1 1 0 0 0, scores .6 .4 .3 .2 .55
 *     selected 2/5 = 0.4, base rate 0.4, TPR 1/2, FPR 1/3
 *   group C (4 rows): labels 1 0 0 0, scores .55 .3 .1 .2
 *     selected 1/4 = 0.25, base rate 0.25, TPR 1, FPR 0
 *   group D (2 rows): labels 0 0, scores .9 .95 — negatives only
 *     selected 2/2 = 1, base rate 0, TPR undefined, FPR 1
 */
const rows: [group: string, label: number, score: number][] = [
  ['A', 1, 0.9],
  ['A', 1, 0.8],
  ['A', 1, 0.3],
  ['A', 0, 0.7],
  ['A', 0, 0.2],
  ['A', 0, 0.1],
  ['B', 1, 0.6],
  ['B', 1, 0.4],
  ['B', 0, 0.3],
  ['B', 0, 0.2],
  ['B', 0, 0.55],
  ['C', 1, 0.55],
  ['C', 0, 0.3],
  ['C', 0, 0.1],
  ['C', 0, 0.2],
  ['D', 0, 0.9],
  ['D', 0, 0.95],
];

function fairnessOf(
  data: typeof rows,
  minGroupSize: number,
  referenceGroup: string | null = null,
  threshold = 0.5,
): AttributeFairness {
  const attribute: AttributeColumn = {
    name: 'group',
    values: data.map(([g]) => g),
    referenceGroup,
  };
  const result = evaluateClassification({
    labels: data.map(([, y]) => y),
    scores: data.map(([, , s]) => s),
    threshold,
    attributes: [attribute],
    fairness: { minGroupSize, disparateImpactThreshold: 0.8 },
  });
  const fairness = result.fairness[0];
  if (fairness === undefined) throw new Error('no fairness result');
  return fairness;
}

describe('fairness figures', () => {
  it('computes per-group rates and flags groups below the minimum size', () => {
    const f = fairnessOf(rows, 3);
    expect(
      f.groups.map((g) => [g.group, g.count, g.positives, g.selected, g.belowMinimumSize]),
    ).toEqual([
      ['A', 6, 3, 3, false],
      ['B', 5, 2, 2, false],
      ['C', 4, 1, 1, false],
      ['D', 2, 0, 2, true],
    ]);
    const rates = f.groups.map((g) => [
      g.baseRate,
      g.selectionRate,
      g.truePositiveRate,
      g.falsePositiveRate,
    ]);
    expect(rates[0]).toEqual([0.5, 0.5, 2 / 3, 1 / 3]);
    expect(rates[1]).toEqual([0.4, 0.4, 0.5, 1 / 3]);
    expect(rates[2]).toEqual([0.25, 0.25, 1, 0]);
    expect(rates[3]).toEqual([0, 1, null, 1]);
    expect(f.comparedGroups).toEqual(['A', 'B', 'C']);
    expect(f.notes).toContainEqual({
      figure: 'groups',
      reason: '"D" has fewer than 3 rows: shown and flagged, left out of the headline figures',
    });
  });

  it('leaves small groups out of the headline differences and ratios', () => {
    // Over A, B, C: selection 0.5 / 0.4 / 0.25, TPR 2/3 / 1/2 / 1, FPR 1/3 / 1/3 / 0.
    const f = fairnessOf(rows, 3);
    expect(f.demographicParityDifference).toBeCloseTo(0.25, 15);
    expect(f.disparateImpact).toBe(0.5);
    expect(f.passesFourFifths).toBe(false);
    expect(f.equalOpportunityDifference).toBeCloseTo(0.5, 15);
    expect(f.equalizedOddsDifference).toBeCloseTo(0.5, 15); // max(1/2, 1/3)
  });

  it('counts a one-class group only for the rate it has', () => {
    // minGroupSize 2 brings in D (selection 1, no positives, FPR 1): selection 0.25…1, TPR still
    // over A, B, C (1/2 apart), FPR over all four (0…1).
    const f = fairnessOf(rows, 2);
    expect(f.comparedGroups).toEqual(['A', 'B', 'C', 'D']);
    expect(f.demographicParityDifference).toBeCloseTo(0.75, 15);
    expect(f.disparateImpact).toBe(0.25);
    expect(f.equalOpportunityDifference).toBeCloseTo(0.5, 15);
    expect(f.equalizedOddsDifference).toBe(1);
    expect(f.notes).toEqual([
      {
        figure: 'equalOpportunityDifference',
        reason:
          '"D": no row labelled positive, so no true positive rate; not counted in equal opportunity, and in equalized odds only for the false positive rate',
      },
    ]);
  });

  it('compares every group with a named reference group', () => {
    const f = fairnessOf(rows, 3, 'A');
    expect(f.referenceGroup).toBe('A');
    const [a, b, c, d] = f.groups.map((g) => g.vsReference);
    expect(a).toEqual({
      selectionRateDifference: 0,
      selectionRateRatio: 1,
      truePositiveRateDifference: 0,
      falsePositiveRateDifference: 0,
      equalizedOddsDifference: 0,
      passesFourFifths: true,
    });
    // B: 0.4 / 0.5 = 0.8 exactly, which passes the four-fifths rule (>=).
    expect(b?.selectionRateRatio).toBe(0.8);
    expect(b?.passesFourFifths).toBe(true);
    expect(b?.selectionRateDifference).toBeCloseTo(-0.1, 15);
    expect(b?.truePositiveRateDifference).toBeCloseTo(-1 / 6, 15);
    expect(b?.falsePositiveRateDifference).toBe(0);
    expect(b?.equalizedOddsDifference).toBeCloseTo(1 / 6, 15);
    // C: 0.25 / 0.5 fails; TPR +1/3, FPR −1/3.
    expect(c?.selectionRateRatio).toBe(0.5);
    expect(c?.passesFourFifths).toBe(false);
    expect(c?.truePositiveRateDifference).toBeCloseTo(1 / 3, 15);
    expect(c?.falsePositiveRateDifference).toBeCloseTo(-1 / 3, 15);
    expect(c?.equalizedOddsDifference).toBeCloseTo(1 / 3, 15);
    // D is below the minimum: figures shown, no verdict; no TPR to compare.
    expect(d?.selectionRateRatio).toBe(2);
    expect(d?.passesFourFifths).toBeNull();
    expect(d?.truePositiveRateDifference).toBeNull();
    expect(d?.falsePositiveRateDifference).toBeCloseTo(2 / 3, 15);
    expect(d?.equalizedOddsDifference).toBeCloseTo(2 / 3, 15);
  });

  it('gives no verdict against a reference group below the minimum size', () => {
    const f = fairnessOf(rows, 3, 'D');
    expect(f.groups.map((g) => g.vsReference?.passesFourFifths)).toEqual([null, null, null, null]);
    expect(f.groups.map((g) => g.vsReference?.selectionRateRatio)).toEqual([0.5, 0.4, 0.25, 1]);
    expect(f.notes.map((n) => n.figure)).toContain('vsReference');
  });

  it('has no headline figures for a single group, rather than a vacuous 0', () => {
    const single = rows.map(([, y, s]): [string, number, number] => ['all', y, s]);
    const f = fairnessOf(single, 3);
    expect([
      f.demographicParityDifference,
      f.disparateImpact,
      f.equalizedOddsDifference,
      f.equalOpportunityDifference,
      f.passesFourFifths,
    ]).toEqual([null, null, null, null, null]);
    expect(f.notes).toContainEqual({
      figure: 'disparateImpact',
      reason: 'only "all" has at least 3 rows: a comparison needs two groups',
    });
    // The same when every group is too small, and the reference group's size is noted too.
    const tooSmall = fairnessOf(rows, 100, 'A');
    expect(tooSmall.disparateImpact).toBeNull();
    expect(tooSmall.comparedGroups).toEqual([]);
    expect(tooSmall.notes.map((n) => n.figure)).toEqual([
      'groups',
      'demographicParityDifference',
      'disparateImpact',
      'equalizedOddsDifference',
      'equalOpportunityDifference',
      'vsReference',
    ]);
  });

  it('has no disparate impact when no compared group selects anyone (0/0)', () => {
    const f = fairnessOf(rows, 3, 'A', 0.99);
    expect(f.demographicParityDifference).toBe(0);
    expect(f.disparateImpact).toBeNull();
    expect(f.passesFourFifths).toBeNull();
    expect(f.groups[1]?.vsReference?.selectionRateRatio).toBeNull();
    expect(f.notes.map((n) => n.figure)).toContain('disparateImpact');
  });

  it('does not depend on row order', () => {
    const reversed = fairnessOf([...rows].reverse(), 3, 'A');
    expect(reversed).toEqual(fairnessOf(rows, 3, 'A'));
  });

  it('refuses an unknown reference group, a repeated attribute and a missing policy', () => {
    expect(() => fairnessOf(rows, 3, 'Z')).toThrow(
      'the group "Z" does not occur in attribute "group"',
    );
    const labels = rows.map(([, y]) => y);
    const scores = rows.map(([, , s]) => s);
    const values = rows.map(([g]) => g);
    expect(() =>
      evaluateClassification({
        labels,
        scores,
        threshold: 0.5,
        attributes: [
          { name: 'g', values },
          { name: 'g', values },
        ],
        fairness: { minGroupSize: 1, disparateImpactThreshold: 0.8 },
      }),
    ).toThrow('the attribute "g" is given twice');
    expect(() =>
      evaluateClassification({
        labels,
        scores,
        threshold: 0.5,
        attributes: [{ name: 'g', values }],
      }),
    ).toThrow('a fairness policy is required with protected attributes');
    expect(() =>
      evaluateClassification({
        labels,
        scores,
        threshold: 0.5,
        attributes: [{ name: 'g', values: values.slice(1) }],
        fairness: { minGroupSize: 1, disparateImpactThreshold: 0.8 },
      }),
    ).toThrow(MetricInputError);
  });

  it('evaluates two attributes at once as each alone', () => {
    const labels = rows.map(([, y]) => y);
    const scores = rows.map(([, , s]) => s);
    const group = rows.map(([g]) => g);
    const parity = rows.map((_, i) => (i % 2 === 0 ? 'even' : 'odd'));
    const policy = { minGroupSize: 3, disparateImpactThreshold: 0.8 };
    const both = evaluateClassification({
      labels,
      scores,
      threshold: 0.5,
      attributes: [
        { name: 'group', values: group },
        { name: 'parity', values: parity },
      ],
      fairness: policy,
    });
    const alone = evaluateClassification({
      labels,
      scores,
      threshold: 0.5,
      attributes: [{ name: 'parity', values: parity }],
      fairness: policy,
    });
    expect(both.fairness[1]).toEqual(alone.fairness[0]);
    expect(both.fairness[0]).toEqual(fairnessOf(rows, 3));
  });
});

describe('fairness over many groups', () => {
  it('counts attributes in separate cell blocks when their joint table would be large', () => {
    // 5000 groups × 4 cells exceed one block, so "parity" is counted in a second pass; each
    // attribute must come out as when evaluated alone.
    const n = 20_000;
    const labels = Array.from({ length: n }, (_, i) => ((i * 7) % 3 === 0 ? 1 : 0));
    const scores = Array.from({ length: n }, (_, i) => ((i * 37) % 101) / 100);
    const id = Array.from({ length: n }, (_, i) => `g${i % 5000}`);
    const parity = Array.from({ length: n }, (_, i) => (i % 2 === 0 ? 'even' : 'odd'));
    const policy = { minGroupSize: 1, disparateImpactThreshold: 0.8 };
    const evaluate = (attributes: AttributeColumn[]) =>
      evaluateClassification({ labels, scores, threshold: 0.5, attributes, fairness: policy })
        .fairness;
    const both = evaluate([
      { name: 'id', values: id },
      { name: 'parity', values: parity },
    ]);
    expect(both[0]).toEqual(evaluate([{ name: 'id', values: id }])[0]);
    expect(both[1]).toEqual(evaluate([{ name: 'parity', values: parity }])[0]);
    expect(both[1]?.groups.map((g) => g.count)).toEqual([10_000, 10_000]);
  });
});

describe('encodeGroups', () => {
  it('numbers the groups present in code-point order of their names', () => {
    expect(encodeGroups('g', ['m', 'f', '', 'm'])).toEqual({
      names: ['', 'f', 'm'],
      codes: Int32Array.from([2, 1, 0, 2]),
    });
  });

  it('accepts dictionary codes, dropping unused entries, and refuses codes outside the dictionary', () => {
    const encoded = encodeGroups('g', {
      dictionary: ['x', 'b', 'unused', 'a'],
      codes: [0, 3, 1, 0],
    });
    expect(encoded).toEqual({ names: ['a', 'b', 'x'], codes: Int32Array.from([2, 0, 1, 2]) });
    expect(() => encodeGroups('g', { dictionary: ['a'], codes: [0, 1] })).toThrow(
      new MetricInputError('g', 'group code 1 is not in the dictionary', 1),
    );
    expect(() => encodeGroups('g', { dictionary: ['a', 'a'], codes: [0, 1] })).toThrow(
      MetricInputError,
    );
  });
});
