import { FN, FP, TN, TP, type ScoredSample, type Tally } from './scored-sample.js';

/** Why a figure is missing or was substituted; shown next to the figure. */
export interface Note {
  readonly figure: string;
  readonly reason: string;
}

export interface ConfusionMatrix {
  readonly truePositives: number;
  readonly falsePositives: number;
  readonly trueNegatives: number;
  readonly falseNegatives: number;
}

export const PERFORMANCE_FIGURES = [
  'accuracy',
  'precision',
  'recall',
  'f1',
  'rocAuc',
  'logLoss',
  'brierScore',
] as const;
export type PerformanceFigure = (typeof PERFORMANCE_FIGURES)[number];

export type PerformanceValues = Record<PerformanceFigure, number | null>;

export interface PerformanceReport extends PerformanceValues {
  readonly rows: number;
  /** Rows labelled 1. */
  readonly positives: number;
  readonly negatives: number;
  readonly threshold: number;
  readonly confusionMatrix: ConfusionMatrix;
  /** The clipping bound used for log loss. */
  readonly logLossEps: number;
  readonly distinctScores: number;
  readonly notes: readonly Note[];
}

/**
 * The headline figures from weighted counts. Divisions by zero follow scikit-learn's default
 * `zero_division="warn"`, which reports 0 (the notes say so); ROC-AUC, which scikit-learn
 * refuses for one class, is null.
 */
export function performanceValues(t: Tally, sample: ScoredSample): PerformanceValues {
  const tn = t.confusion[TN] ?? 0;
  const fp = t.confusion[FP] ?? 0;
  const fn = t.confusion[FN] ?? 0;
  const tp = t.confusion[TP] ?? 0;
  const positives = tp + fn;
  const negatives = tn + fp;
  const probabilistic = sample.outOfRange === null;
  return {
    accuracy: t.weight === 0 ? null : (tp + tn) / t.weight,
    precision: tp + fp === 0 ? (t.weight === 0 ? null : 0) : tp / (tp + fp),
    recall: positives === 0 ? (t.weight === 0 ? null : 0) : tp / positives,
    f1: 2 * tp + fp + fn === 0 ? (t.weight === 0 ? null : 0) : (2 * tp) / (2 * tp + fp + fn),
    rocAuc:
      positives === 0 || negatives === 0 ? null : t.aucTwiceNumerator / (2 * positives * negatives),
    logLoss: probabilistic && t.weight > 0 ? t.logLossSum / t.weight : null,
    brierScore: probabilistic && t.weight > 0 ? t.brierSum / t.weight : null,
  };
}

export function performanceReport(t: Tally, sample: ScoredSample): PerformanceReport {
  const values = performanceValues(t, sample);
  const tn = t.confusion[TN] ?? 0;
  const fp = t.confusion[FP] ?? 0;
  const fn = t.confusion[FN] ?? 0;
  const tp = t.confusion[TP] ?? 0;
  const notes: Note[] = [];
  if (tp + fp === 0) {
    notes.push({
      figure: 'precision',
      reason: 'no row is predicted positive; reported as 0 (scikit-learn zero_division default)',
    });
  }
  if (tp + fn === 0) {
    notes.push({
      figure: 'recall',
      reason: 'no row is labelled positive; reported as 0 (scikit-learn zero_division default)',
    });
  }
  if (2 * tp + fp + fn === 0) {
    notes.push({
      figure: 'f1',
      reason:
        'no positive label and no positive prediction; reported as 0 (scikit-learn zero_division default)',
    });
  }
  if (values.rocAuc === null) {
    notes.push({
      figure: 'rocAuc',
      reason: `only one class is present in the labels (${tp + fn === 0 ? 'no positives' : 'no negatives'}): ROC-AUC is undefined`,
    });
  }
  if (sample.outOfRange !== null) {
    const { row, score } = sample.outOfRange;
    const reason = `the scores are not probabilities: row index ${row} has ${score}, outside [0, 1]`;
    notes.push({ figure: 'logLoss', reason }, { figure: 'brierScore', reason });
  }
  return {
    rows: t.weight,
    positives: tp + fn,
    negatives: tn + fp,
    threshold: sample.threshold,
    confusionMatrix: {
      truePositives: tp,
      falsePositives: fp,
      trueNegatives: tn,
      falseNegatives: fn,
    },
    ...values,
    logLossEps: sample.logLossEps,
    distinctScores: sample.distinctScores,
    notes,
  };
}
