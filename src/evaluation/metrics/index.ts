/**
 * Pure evaluation arithmetic (docs/metrics.md): no framework, no I/O, typed arrays in, JSON-safe
 * plain objects out (numbers, strings, booleans and null only).
 */
export { MetricInputError, NonFiniteValueError } from './errors.js';
export type { LabelColumn, NumericColumn } from './columns.js';
export type { EncodedGroups } from './groups.js';
export {
  prepareSample,
  type AttributeColumn,
  type ClassificationInput,
  type FairnessPolicy,
  type ScoredSample,
} from './scored-sample.js';
export {
  PERFORMANCE_FIGURES,
  type ConfusionMatrix,
  type Note,
  type PerformanceFigure,
  type PerformanceReport,
} from './classification.js';
export {
  FAIRNESS_FIGURES,
  type AttributeFairness,
  type FairnessFigure,
  type GroupFigures,
  type ReferenceComparison,
} from './fairness.js';
export {
  bootstrapIntervals,
  bootstrapResamples,
  checkBootstrapOptions,
  type BootstrapIntervals,
  type BootstrapOptions,
  type ConfidenceInterval,
} from './bootstrap.js';
export {
  classificationReport,
  evaluateClassification,
  type ClassificationEvaluation,
  type ClassificationReport,
} from './evaluate.js';
export { regressionMetrics, type RegressionReport } from './regression.js';
export {
  PSI_EPSILON,
  binIndex,
  binProportions,
  driftBaseline,
  driftPsi,
  psi,
  type DriftBaseline,
} from './drift.js';
export { BOOTSTRAP_PRNG, Xoshiro128StarStar } from './prng.js';
