/**
 * How a model version is scored: which input takes its feature columns, and where its score
 * is in the outputs. Bound once when the version is registered (checked against the
 * artifact's signature) and read by everything that runs or judges the version.
 */
export interface ScoringSpec {
  readonly inputName: string;
  /** In the order of the input tensor's last dimension. */
  readonly featureColumns: readonly string[];
  readonly scoreOutput: string;
  /** The score's index along the score output's last axis. */
  readonly scoreIndex: number;
  /** Scores at or above it are a positive decision; null for regression. */
  readonly threshold: number | null;
}

/**
 * Each row's score from a score output of `rows` rows: element `scoreIndex` of the row's
 * values (the output's data is row-major, the same number of values per row). Null when the
 * output cannot hold that: a length that is not a whole number of values per row, or too
 * few values per row. An element that is not a number reads as NaN.
 */
export function scoresOf(
  data: ArrayLike<unknown>,
  rows: number,
  scoreIndex: number,
): Float64Array | null {
  if (!Number.isInteger(rows) || rows < 0) return null;
  if (rows === 0) return new Float64Array(0);
  const width = data.length / rows;
  if (!Number.isInteger(width) || scoreIndex >= width) return null;
  const scores = new Float64Array(rows);
  for (let r = 0; r < rows; r++) scores[r] = numberOf(data[r * width + scoreIndex]);
  return scores;
}

function numberOf(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  return Number.NaN;
}
