/**
 * The few metrics the builders report and their specs assert on. (The service computes its own,
 * with confidence intervals, in the evaluation module.)
 */

/** Share of rows whose thresholded score (score >= threshold) equals the label. */
export function accuracy(
  scores: ArrayLike<number>,
  labels: readonly number[],
  threshold = 0.5,
): number {
  if (scores.length !== labels.length) throw new Error('scores and labels differ in length');
  let correct = 0;
  for (let i = 0; i < labels.length; i++) {
    if (((scores[i] ?? Number.NaN) >= threshold ? 1 : 0) === labels[i]) correct++;
  }
  return correct / labels.length;
}

/** Per group: the share of rows selected (score >= threshold). Keys in sorted order. */
export function selectionRates(
  scores: ArrayLike<number>,
  groups: readonly string[],
  threshold = 0.5,
): Record<string, number> {
  if (scores.length !== groups.length) throw new Error('scores and groups differ in length');
  const counts = new Map<string, { selected: number; total: number }>();
  for (let i = 0; i < groups.length; i++) {
    const group = groups[i] ?? '';
    const count = counts.get(group) ?? { selected: 0, total: 0 };
    count.total++;
    if ((scores[i] ?? Number.NaN) >= threshold) count.selected++;
    counts.set(group, count);
  }
  return Object.fromEntries(
    [...counts.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([group, { selected, total }]) => [group, selected / total]),
  );
}

/** Disparate impact: lowest selection rate over highest (four-fifths rule: >= 0.8). */
export function disparateImpact(rates: Readonly<Record<string, number>>): number {
  const values = Object.values(rates);
  const max = Math.max(...values);
  return max === 0 ? 1 : Math.min(...values) / max;
}
