import { addBuckets, emptyLatencyBuckets } from './latency-histogram.js';

/**
 * What one arm (live, candidate or shadow) of one endpoint version did over a span of time:
 * the sum of the windows every replica flushed. Counts only, so windows add up exactly
 * whichever replica measured them.
 */
export interface ArmWindow {
  /** Requests answered or failed. */
  requests: number;
  /** Requests the model failed on (an exception or a non-finite score). */
  errors: number;
  /** Rows scored, and rows at or above the version's decision threshold. */
  rows: number;
  selected: number;
  /** Request counts per latency bucket (latency-histogram.ts). */
  latency: number[];
  /** Shadow rows whose decision was compared with live's answer to the same request. */
  compared: number;
  agreed: number;
  /** Per protected attribute, per group: [rows, selected]. */
  groups: Record<string, Record<string, [number, number]>>;
  /** Mirrored requests dropped because the shadow queue was full. */
  shadowDropped: number;
}

export function emptyArmWindow(): ArmWindow {
  return {
    requests: 0,
    errors: 0,
    rows: 0,
    selected: 0,
    latency: emptyLatencyBuckets(),
    compared: 0,
    agreed: 0,
    groups: {},
    shadowDropped: 0,
  };
}

export function addGroups(
  into: ArmWindow['groups'],
  groups: Readonly<Record<string, Readonly<Record<string, readonly [number, number]>>>>,
): void {
  for (const [attribute, byGroup] of Object.entries(groups)) {
    for (const [group, [rows, selected]] of Object.entries(byGroup)) {
      const cell = groupCell(into, attribute, group);
      cell[0] += rows;
      cell[1] += selected;
    }
  }
}

/**
 * The [rows, selected] cell of one group of one attribute, made on first use. Both names are
 * the client's (`parameters.attributes`), so they are looked up as own members only and added
 * as such: a group named `__proto__` or `constructor` must count as a group, not reach
 * Object.prototype (whose `[0]` one request could otherwise set, for every object in the
 * process).
 */
export function groupCell(
  groups: ArmWindow['groups'],
  attribute: string,
  group: string,
): [number, number] {
  const byGroup = ownOrNew(groups, attribute, (): Record<string, [number, number]> => ({}));
  return ownOrNew(byGroup, group, (): [number, number] => [0, 0]);
}

function ownOrNew<T>(record: Record<string, T>, key: string, make: () => T): T {
  if (Object.hasOwn(record, key)) return record[key] as T;
  const value = make();
  Object.defineProperty(record, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
  return value;
}

/** Adds `w` into `into`. */
export function addArmWindow(into: ArmWindow, w: ArmWindow): void {
  into.requests += w.requests;
  into.errors += w.errors;
  into.rows += w.rows;
  into.selected += w.selected;
  addBuckets(into.latency, w.latency);
  into.compared += w.compared;
  into.agreed += w.agreed;
  addGroups(into.groups, w.groups);
  into.shadowDropped += w.shadowDropped;
}

/** Scores with ground truth: what labelled accuracy and AUC are computed from. */
export interface LabelledFigures {
  readonly n: number;
  readonly correct: number;
  readonly accuracy: number | null;
  readonly positives: number;
  readonly negatives: number;
  /** Null unless both classes are present. */
  readonly auc: number | null;
}

/**
 * Accuracy at the decision threshold and ROC AUC (the Mann-Whitney form: the share of
 * positive-negative pairs ranked correctly, ties counting half) of scores against 0/1 labels.
 */
export function labelledFigures(
  pairs: readonly { readonly score: number; readonly label: number }[],
  threshold: number,
): LabelledFigures {
  let correct = 0;
  let positives = 0;
  for (const { score, label } of pairs) {
    const positive = label >= 0.5;
    if (positive) positives++;
    if (score >= threshold === positive) correct++;
  }
  const n = pairs.length;
  const negatives = n - positives;
  let auc: number | null = null;
  if (positives > 0 && negatives > 0) {
    const sorted = [...pairs].sort((a, b) => a.score - b.score);
    // Rank sum of positives with mid-ranks for ties.
    let rankSum = 0;
    let i = 0;
    const scores = sorted.map((p) => p.score);
    const positive = sorted.map((p) => p.label >= 0.5);
    while (i < scores.length) {
      let j = i;
      while (j + 1 < scores.length && scores[j + 1] === scores[i]) j++;
      const midRank = (i + j) / 2 + 1;
      for (let k = i; k <= j; k++) if (positive[k]) rankSum += midRank;
      i = j + 1;
    }
    auc = (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
  }
  return { n, correct, accuracy: n === 0 ? null : correct / n, positives, negatives, auc };
}
