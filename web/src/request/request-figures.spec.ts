import { describe, expect, it } from '@jest/globals';
import { describeComparison, fourFifthsComparison } from './four-fifths.js';
import { compareHeadlines, signedFigure } from './headline-comparison.js';

const groups = [
  { group: 'female', selectionRate: 0.5, belowMinimumSize: false },
  { group: 'male', selectionRate: 0.8, belowMinimumSize: false },
  { group: 'other', selectionRate: 0.9, belowMinimumSize: true },
];

describe('fourFifthsComparison', () => {
  it('compares every group with the named reference group', () => {
    const comparison = fourFifthsComparison(groups, 'female');
    expect(comparison?.reference).toBe('female');
    expect(comparison?.basis).toBe('named');
    expect(comparison?.bars.map((bar) => [bar.group, bar.ratio, bar.meetsFourFifths])).toEqual([
      ['female', 1, true],
      ['male', 1.6, true],
      ['other', 1.8, true],
    ]);
  });

  it('without a named reference, takes the group selected most often among those that count', () => {
    const comparison = fourFifthsComparison(groups, null);
    expect(comparison?.reference).toBe('male');
    expect(comparison?.basis).toBe('highest');
    expect(comparison?.bars[0]).toMatchObject({ group: 'female', ratio: 0.625 });
    expect(comparison?.bars[0]?.meetsFourFifths).toBe(false);
    expect(describeComparison('sex', comparison!)).toBe(
      'Selection rate by sex relative to male, the group selected most often: female 0.63, below 0.8; other 1.13, at or above 0.8 (below the minimum size: not evidence).',
    );
  });

  it('leaves the ratio undefined when the reference selects no one, and has no reference without groups', () => {
    const none = fourFifthsComparison(
      [
        { group: 'a', selectionRate: 0, belowMinimumSize: false },
        { group: 'b', selectionRate: 0.2, belowMinimumSize: false },
      ],
      'a',
    );
    expect(none?.bars.map((bar) => bar.ratio)).toEqual([null, null]);
    expect(none?.bars.map((bar) => bar.meetsFourFifths)).toEqual([null, null]);
    expect(fourFifthsComparison([], null)).toBeNull();
    expect(
      fourFifthsComparison([{ group: 'a', selectionRate: 0.1, belowMinimumSize: true }], null),
    ).toBeNull();
  });
});

describe('compareHeadlines', () => {
  it('pairs figures by name, the difference candidate minus live', () => {
    const rows = compareHeadlines(
      [
        { name: 'accuracy', value: 0.76 },
        { name: 'rocAuc', value: null },
      ],
      [
        { name: 'accuracy', value: 0.75 },
        { name: 'rocAuc', value: 0.8 },
        { name: 'brier', value: 0.17 },
      ],
    );
    expect(rows.map((row) => row.name)).toEqual(['accuracy', 'rocAuc', 'brier']);
    expect(rows[0]?.difference).toBeCloseTo(0.01);
    expect(rows[1]).toEqual({ name: 'rocAuc', candidate: null, live: 0.8, difference: null });
    expect(rows[2]).toEqual({ name: 'brier', candidate: null, live: 0.17, difference: null });
  });

  it('writes differences with their sign', () => {
    expect(signedFigure(0.0123)).toBe('+0.012');
    expect(signedFigure(-0.03)).toBe('−0.030');
    expect(signedFigure(0.00001)).toBe('0.000');
    expect(signedFigure(null)).toBe('—');
  });
});
