import { driftPsi, type DriftBaseline } from '../evaluation/metrics/drift.js';
import { scoresOf, type ScoringSpec } from '../runtime/scoring.js';

/** The drift baselines stored in an evaluation's result (src/evaluation/evaluation-compute.ts). */
export interface StoredDrift {
  readonly score: DriftBaseline;
  readonly features: Readonly<Record<string, DriftBaseline>>;
}

/** One logged prediction as read back: the request's input tensors and the answer's outputs. */
export interface ServedPrediction {
  readonly inputs: unknown;
  readonly outputs: unknown;
}

/** The served values of one window, column by column. */
export interface WindowValues {
  /** Predictions read (each may carry several rows). */
  readonly predictions: number;
  readonly rows: number;
  /** One column per feature column, in the order of the feature columns. */
  readonly features: readonly Float64Array[];
  readonly scores: Float64Array;
}

export interface FeaturePsi {
  readonly feature: string;
  readonly psi: number;
}

export interface WindowDrift {
  readonly rows: number;
  /** Null when the window had no score to compare (outputs missing). */
  readonly scorePsi: number | null;
  readonly features: readonly FeaturePsi[];
  /** The largest of them: what the threshold is compared with. */
  readonly maxPsi: number;
}

interface Tensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly data: readonly unknown[];
}

function tensors(value: unknown): Tensor[] {
  if (!Array.isArray(value)) return [];
  return value.filter(
    (t): t is Tensor =>
      typeof t === 'object' &&
      t !== null &&
      typeof (t as Tensor).name === 'string' &&
      Array.isArray((t as Tensor).shape) &&
      Array.isArray((t as Tensor).data),
  );
}

/** The named tensor, or the only one there is. */
function pick(list: readonly Tensor[], name: string): Tensor | undefined {
  return list.find((t) => t.name === name) ?? (list.length === 1 ? list[0] : undefined);
}

/**
 * The feature and score columns of a window of logged predictions. A row is taken only whole:
 * every feature finite and the score finite; rows of a prediction whose tensors do not have
 * the version's layout are skipped (a client's malformed request is not drift).
 */
export function windowValues(
  predictions: readonly ServedPrediction[],
  scoring: ScoringSpec,
): WindowValues {
  const width = scoring.featureColumns.length;
  const columns: number[][] = scoring.featureColumns.map(() => []);
  const scores: number[] = [];
  for (const p of predictions) {
    const input = pick(tensors(p.inputs), scoring.inputName);
    const output = pick(tensors(p.outputs), scoring.scoreOutput);
    if (!input || !output || width === 0) continue;
    const rows = input.data.length / width;
    if (!Number.isInteger(rows) || rows === 0 || input.shape[input.shape.length - 1] !== width)
      continue;
    const rowScores = scoresOf(output.data, rows, scoring.scoreIndex);
    if (!rowScores) continue;
    for (let r = 0; r < rows; r++) {
      const score = rowScores[r] ?? Number.NaN;
      if (!Number.isFinite(score)) continue;
      const row: number[] = [];
      for (let j = 0; j < width; j++) {
        const value = Number(input.data[r * width + j]);
        if (!Number.isFinite(value)) break;
        row.push(value);
      }
      if (row.length !== width) continue;
      row.forEach((value, j) => columns[j]?.push(value));
      scores.push(score);
    }
  }
  return {
    predictions: predictions.length,
    rows: scores.length,
    features: columns.map((c) => Float64Array.from(c)),
    scores: Float64Array.from(scores),
  };
}

/**
 * PSI of the window against the stored baselines, for the score and each feature that has a
 * baseline, binned by the baseline's own edges (stored with it, so a window is
 * compared on exactly the bins the baseline was measured on).
 */
export function windowDrift(
  baseline: StoredDrift,
  scoring: ScoringSpec,
  values: WindowValues,
): WindowDrift {
  if (values.rows === 0) return { rows: 0, scorePsi: null, features: [], maxPsi: 0 };
  const features: FeaturePsi[] = [];
  scoring.featureColumns.forEach((feature, j) => {
    const base = baseline.features[feature];
    const column = values.features[j];
    if (base && column) features.push({ feature, psi: driftPsi(base, column, feature) });
  });
  const scorePsi = driftPsi(baseline.score, values.scores, 'score');
  const maxPsi = Math.max(scorePsi, ...features.map((f) => f.psi));
  return { rows: values.rows, scorePsi, features, maxPsi };
}

/**
 * Whether this window opens or closes a drift episode. An episode opens when the largest PSI
 * exceeds the threshold and closes when it is back at or below it; in between nothing is
 * written, so a drift lasting hours is one alert, not one per check.
 */
export function episodeChange(
  alerting: boolean,
  maxPsi: number,
  threshold: number,
): 'open' | 'close' | null {
  const breached = maxPsi > threshold;
  if (breached && !alerting) return 'open';
  if (!breached && alerting) return 'close';
  return null;
}
