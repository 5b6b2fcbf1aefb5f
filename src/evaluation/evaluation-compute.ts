import {
  bootstrapIntervals,
  checkBootstrapOptions,
  classificationReport,
  driftBaseline,
  prepareSample,
  regressionMetrics,
  type ClassificationEvaluation,
  type DriftBaseline,
  type EncodedGroups,
  type FairnessPolicy,
  type RegressionReport,
} from './metrics/index.js';

/**
 * Everything an evaluation's figures are computed from, as typed arrays (so the whole of it
 * can be moved to a worker thread without copying): the scores the registered artifact gave,
 * the labels, each protected attribute dictionary-encoded, and a fixed-stride sample of the
 * feature rows for the drift baseline.
 */
export interface EvaluationData {
  readonly task: 'BINARY_CLASSIFICATION' | 'REGRESSION';
  readonly rows: number;
  readonly scores: Float64Array;
  /** 0/1 for classification, the target for regression. */
  readonly labels: Float64Array;
  readonly threshold: number | null;
  /** The score output's element type: log loss clips at that type's machine epsilon. */
  readonly scoreDatatype: string;
  readonly attributes: readonly {
    readonly name: string;
    readonly groups: EncodedGroups & { readonly codes: Int32Array };
    readonly referenceGroup: string | null;
  }[];
  readonly features: readonly string[];
  /** Row-major sample of the feature rows, `sampleRows × features.length`. */
  readonly featureSample: Float32Array;
  readonly sampleRows: number;
  /** Every `sampleStride`-th row (from the first) is in the sample. */
  readonly sampleStride: number;
}

export interface EvaluationOptions {
  readonly fairness: FairnessPolicy;
  readonly bootstrap: {
    readonly resamples: number;
    readonly seed: number;
    readonly confidenceLevel: number;
  } | null;
  readonly driftBins: number;
}

export interface EvaluationFigures {
  readonly task: EvaluationData['task'];
  readonly rows: number;
  readonly threshold: number | null;
  readonly classification: ClassificationEvaluation | null;
  readonly regression: RegressionReport | null;
  readonly drift: {
    readonly bins: number;
    readonly score: DriftBaseline;
    readonly features: Readonly<Record<string, DriftBaseline>>;
    /** The feature bins come from every `sampleStride`-th row: `sampleRows` rows. */
    readonly sampleRows: number;
    readonly sampleStride: number;
  };
}

/** The most feature rows the drift baseline is computed from (a fixed stride beyond it). */
export const DRIFT_SAMPLE_ROWS = 100_000;

export function strideFor(rows: number): number {
  return Math.max(1, Math.ceil(rows / DRIFT_SAMPLE_ROWS));
}

/** The figures, and how long their bootstrap took (kept apart: it is no figure). */
export interface ComputedEvaluation {
  readonly figures: EvaluationFigures;
  readonly bootstrapMs: number;
}

/** Pure and synchronous: runs in a worker thread for large evaluations. */
export function computeEvaluation(
  data: EvaluationData,
  options: EvaluationOptions,
): ComputedEvaluation {
  let bootstrapMs = 0;
  let classification: ClassificationEvaluation | null = null;
  if (data.task === 'BINARY_CLASSIFICATION') {
    const bootstrap = options.bootstrap;
    // Before the sort, so that bad options are refused without the work.
    if (bootstrap !== null) checkBootstrapOptions(bootstrap);
    const sample = prepareSample({
      labels: data.labels,
      scores: data.scores,
      threshold: data.threshold ?? 0.5,
      attributes: data.attributes.map((a) => ({
        name: a.name,
        values: a.groups,
        referenceGroup: a.referenceGroup,
      })),
      fairness: options.fairness,
      // As scikit-learn ≥ 1.5 clips probabilities of the model's own float type.
      logLossEps: data.scoreDatatype === 'FP32' ? 2 ** -23 : 2 ** -52,
    });
    const report = classificationReport(sample);
    let intervals = null;
    if (bootstrap !== null) {
      const started = performance.now();
      intervals = bootstrapIntervals(sample, bootstrap);
      bootstrapMs = performance.now() - started;
    }
    classification = { ...report, bootstrap: intervals };
  }
  const regression =
    data.task === 'REGRESSION' ? regressionMetrics(data.labels, data.scores) : null;
  const width = data.features.length;
  // Feature names are the client's: fromEntries makes each an own member, `__proto__` too.
  const features: Record<string, DriftBaseline> = Object.fromEntries(
    data.features.map((name, j) => {
      const column = new Float32Array(data.sampleRows);
      for (let r = 0; r < data.sampleRows; r++) column[r] = data.featureSample[r * width + j] ?? 0;
      return [name, driftBaseline(column, options.driftBins, name)];
    }),
  );
  return {
    figures: {
      task: data.task,
      rows: data.rows,
      threshold: data.threshold,
      classification,
      regression,
      drift: {
        bins: options.driftBins,
        score: driftBaseline(data.scores, options.driftBins, 'score'),
        features,
        sampleRows: data.sampleRows,
        sampleStride: data.sampleStride,
      },
    },
    bootstrapMs,
  };
}
