/** The four-fifths comparison of one protected attribute, for its chart and the chart's words. */

export const FOUR_FIFTHS = 0.8;

export interface GroupRate {
  readonly group: string;
  readonly selectionRate: number;
  readonly belowMinimumSize: boolean;
}

export interface RatioBar {
  readonly group: string;
  readonly selectionRate: number;
  /** Selection rate over the reference group's; null when the reference selects no one. */
  readonly ratio: number | null;
  readonly belowMinimumSize: boolean;
  /** ratio ≥ 0.8; null without a ratio. */
  readonly meetsFourFifths: boolean | null;
}

export interface FourFifthsComparison {
  readonly reference: string;
  /** `named`: the evaluation's reference group; `highest`: the group selected most often. */
  readonly basis: 'named' | 'highest';
  readonly bars: readonly RatioBar[];
}

/**
 * Each group's selection rate relative to the reference group: the one the evaluation names,
 * or else, as the four-fifths rule of the Uniform Guidelines reads, the group with the highest
 * selection rate among those large enough to count. Null when no group can be the reference.
 */
export function fourFifthsComparison(
  groups: readonly GroupRate[],
  referenceGroup: string | null | undefined,
): FourFifthsComparison | null {
  const named = referenceGroup == null ? undefined : groups.find((g) => g.group === referenceGroup);
  const counted = groups.filter((g) => !g.belowMinimumSize);
  const highest = counted.reduce<GroupRate | undefined>(
    (best, g) => (best === undefined || g.selectionRate > best.selectionRate ? g : best),
    undefined,
  );
  const reference = named ?? highest;
  if (reference === undefined) return null;
  const bars = groups.map((g): RatioBar => {
    const ratio = reference.selectionRate === 0 ? null : g.selectionRate / reference.selectionRate;
    return {
      group: g.group,
      selectionRate: g.selectionRate,
      ratio,
      belowMinimumSize: g.belowMinimumSize,
      meetsFourFifths: ratio === null ? null : ratio >= FOUR_FIFTHS,
    };
  });
  return { reference: reference.group, basis: named ? 'named' : 'highest', bars };
}

/** The chart in words: its text alternative, naming every bar and where it stands. */
export function describeComparison(attribute: string, comparison: FourFifthsComparison): string {
  const basis =
    comparison.basis === 'named' ? 'the reference group' : 'the group selected most often';
  const bars = comparison.bars
    .filter((bar) => bar.group !== comparison.reference)
    .map((bar) => {
      const ratio = bar.ratio === null ? 'undefined' : bar.ratio.toFixed(2);
      const verdict =
        bar.meetsFourFifths === null
          ? ''
          : bar.meetsFourFifths
            ? ', at or above 0.8'
            : ', below 0.8';
      const small = bar.belowMinimumSize ? ' (below the minimum size: not evidence)' : '';
      return `${bar.group} ${ratio}${verdict}${small}`;
    });
  const head = `Selection rate by ${attribute} relative to ${comparison.reference}, ${basis}`;
  return bars.length === 0 ? `${head}: no other group.` : `${head}: ${bars.join('; ')}.`;
}
