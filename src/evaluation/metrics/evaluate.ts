import {
  checkBootstrapOptions,
  bootstrapIntervals,
  type BootstrapIntervals,
  type BootstrapOptions,
} from './bootstrap.js';
import { performanceReport, type PerformanceReport } from './classification.js';
import { attributeFairness, type AttributeFairness } from './fairness.js';
import {
  prepareSample,
  tally,
  unitWeights,
  type ClassificationInput,
  type ScoredSample,
} from './scored-sample.js';

export interface ClassificationReport {
  readonly performance: PerformanceReport;
  /** One entry per protected attribute, in the order given. */
  readonly fairness: readonly AttributeFairness[];
}

export interface ClassificationEvaluation extends ClassificationReport {
  readonly bootstrap: BootstrapIntervals | null;
}

/** The point figures of a prepared sample: the data itself, every row counted once. */
export function classificationReport(sample: ScoredSample): ClassificationReport {
  const t = tally(sample, unitWeights(sample.rows));
  const policy = sample.fairness;
  return {
    performance: performanceReport(t, sample),
    fairness:
      policy === null
        ? []
        : sample.attributes.map((attribute, a) =>
            attributeFairness(attribute, t.cells[a] ?? new Float64Array(0), policy),
          ),
  };
}

/**
 * Every classification figure at once: validation, one sort, the point figures and, when asked,
 * the bootstrap intervals. For a long bootstrap that must not block an event loop, call
 * prepareSample, classificationReport and bootstrapResamples separately.
 */
export function evaluateClassification(
  input: ClassificationInput,
  bootstrap?: BootstrapOptions,
): ClassificationEvaluation {
  if (bootstrap !== undefined) checkBootstrapOptions(bootstrap);
  const sample = prepareSample(input);
  return {
    ...classificationReport(sample),
    bootstrap: bootstrap === undefined ? null : bootstrapIntervals(sample, bootstrap),
  };
}
