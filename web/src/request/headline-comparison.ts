/** Candidate against live: the headline figures of two evaluations, side by side. */

export interface Headline {
  readonly name: string;
  readonly value: number | null | undefined;
}

export interface HeadlineRow {
  readonly name: string;
  readonly candidate: number | null;
  readonly live: number | null;
  /** candidate − live; null when either is missing. */
  readonly difference: number | null;
}

/** Every figure either evaluation has, in the candidate's order, then the live one's extras. */
export function compareHeadlines(
  candidate: readonly Headline[],
  live: readonly Headline[],
): HeadlineRow[] {
  const names = [...new Set([...candidate.map((f) => f.name), ...live.map((f) => f.name)])];
  const valueIn = (figures: readonly Headline[], name: string): number | null =>
    figures.find((f) => f.name === name)?.value ?? null;
  return names.map((name) => {
    const c = valueIn(candidate, name);
    const l = valueIn(live, name);
    return { name, candidate: c, live: l, difference: c === null || l === null ? null : c - l };
  });
}

/** A difference with its sign, as a reader compares figures: "+0.012", "−0.030", "0.000". */
export function signedFigure(value: number | null): string {
  if (value === null) return '—';
  const text = Math.abs(value).toFixed(3);
  if (text === '0.000') return text;
  return value > 0 ? `+${text}` : `−${text}`;
}
