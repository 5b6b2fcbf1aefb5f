import { solveSpd } from './linear-algebra.js';
import { accuracy } from './metrics.js';
import type { GraphBuilder } from './onnx-writer.js';
import {
  addSelectColumns,
  checkTrainingData,
  featureIndexes,
  scoringGraph,
  encodeScoringModel,
  type TrainingOptions,
  SCORE_OUTPUT,
  sigmoid,
  type ScoringModel,
  type TrainingData,
} from './scoring-model.js';
import {
  addStandardizeNodes,
  fitStandardizer,
  standardizeRows,
  type Standardizer,
} from './standardize.js';

export interface LogisticRegressionOptions extends TrainingOptions {
  /** L2 penalty λ: the loss is Σ sᵢ·logloss(i) + λ/2·‖w‖² (bias not penalized). Default 1. */
  readonly l2?: number;
  /**
   * Weights fixed by hand instead of learned, per used feature name, on the standardized scale
   * (a weight of 1 adds 1 to the log-odds per standard deviation of the feature). The other
   * weights and the bias are trained around them.
   */
  readonly weightOverrides?: Readonly<Record<string, number>>;
  readonly maxIterations?: number;
}

export interface LogisticRegressionModel extends ScoringModel {
  readonly kind: 'logistic_regression';
  /** The features the model uses, a subset of `featureNames`. */
  readonly usedFeatures: readonly string[];
  /** Per used feature, on the standardized scale (float32 values, as in the graph). */
  readonly weights: readonly number[];
  readonly bias: number;
  /** Of the used features. */
  readonly standardizer: Standardizer;
  /** On the training rows, threshold 0.5. */
  readonly trainAccuracy: number;
  /** Newton iterations run. */
  readonly iterations: number;
}

/**
 * Logistic regression trained by Newton's method (iteratively reweighted least squares) with
 * an L2 penalty and a backtracking line search: deterministic, no randomness at all.
 *
 * ONNX graph: features [N, F] → (Gather of the used columns) → Sub mean → Div std →
 * Gemm (w, b) → Sigmoid → score [N, 1].
 */
export function trainLogisticRegression(
  data: TrainingData,
  options: LogisticRegressionOptions = {},
): LogisticRegressionModel {
  checkTrainingData(data, options.sampleWeights);
  const columns = featureIndexes(data.featureNames, options.features);
  const usedFeatures = columns.map((c) => data.featureNames[c] ?? '');
  const standardizer = fitStandardizer(data.X, columns);
  const Z = standardizeRows(data.X, standardizer, columns);
  const overrides = options.weightOverrides ?? {};
  for (const name of Object.keys(overrides)) {
    if (!usedFeatures.includes(name)) throw new Error(`weight override for unused feature ${name}`);
  }
  const fit = newton(Z, data.y, {
    l2: options.l2 ?? 1,
    sampleWeights: options.sampleWeights,
    fixed: usedFeatures.map((name) => overrides[name]),
    maxIterations: options.maxIterations ?? 100,
  });
  const weights = fit.weights.map((w) => Math.fround(w));
  const bias = Math.fround(fit.bias);

  const predict = (X: readonly Float32Array[]): number[] =>
    standardizeRows(X, standardizer, columns).map((z) =>
      sigmoid(z.reduce((sum, v, j) => sum + v * (weights[j] ?? 0), bias)),
    );
  const name = options.name ?? 'logistic_regression';
  const { g, features } = scoringGraph(name, data.featureNames.length, options.description);
  const logit = addLogitNodes(g, features, {
    featureNames: data.featureNames,
    usedFeatures,
    standardizer,
    weights,
    bias,
  });
  g.op('Sigmoid', [logit], { output: SCORE_OUTPUT });
  const bytes = encodeScoringModel(
    g.build(),
    'logistic_regression',
    data.featureNames,
    usedFeatures,
    options.description,
  );
  return {
    kind: 'logistic_regression',
    bytes,
    featureNames: [...data.featureNames],
    usedFeatures,
    weights,
    bias,
    standardizer,
    trainAccuracy: accuracy(predict(data.X), data.y),
    iterations: fit.iterations,
    predict,
  };
}

/** What the graph of a logistic regression needs; a LogisticRegressionModel has it. */
export type LogisticParameters = Pick<
  LogisticRegressionModel,
  'featureNames' | 'usedFeatures' | 'standardizer' | 'weights' | 'bias'
>;

/**
 * Appends the log-odds of a logistic regression to a graph whose `features` input holds every
 * column of `model.featureNames`; returns the [N, 1] log-odds value (apply Sigmoid for scores).
 */
export function addLogitNodes(
  g: GraphBuilder,
  features: string,
  model: LogisticParameters,
): string {
  const selected = addSelectColumns(g, features, model.featureNames, model.usedFeatures);
  const standardized = addStandardizeNodes(g, selected, model.standardizer);
  const w = g.float('weights', [model.weights.length, 1], model.weights);
  const b = g.float('bias', [1], [model.bias]);
  return g.op('Gemm', [standardized, w, b], { prefix: 'logit' });
}

interface NewtonOptions {
  readonly l2: number;
  readonly sampleWeights: readonly number[] | undefined;
  /** Per feature: a fixed weight, or undefined when the weight is learned. */
  readonly fixed: readonly (number | undefined)[];
  readonly maxIterations: number;
}

function newton(
  Z: readonly Float64Array[],
  y: readonly number[],
  options: NewtonOptions,
): { weights: number[]; bias: number; iterations: number } {
  const k = options.fixed.length;
  const free = options.fixed.flatMap((w, j) => (w === undefined ? [j] : []));
  const m = free.length + 1; // free weights, then the bias
  const n = Z.length;
  const s = (i: number): number => options.sampleWeights?.[i] ?? 1;
  const offset = Z.map((z) =>
    options.fixed.reduce<number>((sum, w, j) => sum + (w ?? 0) * (z[j] ?? 0), 0),
  );
  // Design rows over the free parameters: [z_free..., 1].
  const D = Z.map((z) =>
    Float64Array.from({ length: m }, (_, p) => (p < free.length ? (z[free[p] ?? 0] ?? 0) : 1)),
  );
  const theta = new Float64Array(m);
  const penalty = (t: Float64Array): number => {
    let sum = 0;
    for (let p = 0; p < m - 1; p++) sum += (t[p] ?? 0) ** 2;
    return (options.l2 / 2) * sum;
  };
  const logits = (t: Float64Array): Float64Array =>
    Float64Array.from(D, (d, i) => d.reduce((sum, v, p) => sum + v * (t[p] ?? 0), offset[i] ?? 0));
  const objective = (t: Float64Array): number => {
    const eta = logits(t);
    let loss = penalty(t);
    for (let i = 0; i < n; i++) {
      const e = eta[i] ?? 0;
      // log(1 + exp(e)) - y·e, computed stably.
      const softplus = e > 0 ? e + Math.log1p(Math.exp(-e)) : Math.log1p(Math.exp(e));
      loss += s(i) * (softplus - (y[i] ?? 0) * e);
    }
    return loss;
  };

  let current = objective(theta);
  let iterations = 0;
  while (iterations < options.maxIterations) {
    iterations++;
    const eta = logits(theta);
    const gradient = new Float64Array(m);
    const hessian = new Float64Array(m * m);
    for (let i = 0; i < n; i++) {
      const d = D[i] ?? new Float64Array(m);
      const p = sigmoid(eta[i] ?? 0);
      const r = s(i) * (p - (y[i] ?? 0));
      const h = s(i) * p * (1 - p);
      for (let a = 0; a < m; a++) {
        const da = d[a] ?? 0;
        gradient[a] = (gradient[a] ?? 0) + r * da;
        for (let b = 0; b <= a; b++)
          hessian[a * m + b] = (hessian[a * m + b] ?? 0) + h * da * (d[b] ?? 0);
      }
    }
    for (let a = 0; a < m; a++) {
      for (let b = 0; b < a; b++) hessian[b * m + a] = hessian[a * m + b] ?? 0;
      // A floor on the curvature keeps the system solvable when one-hot columns are collinear
      // with the bias and l2 is 0; the gradient keeps the exact penalty.
      const ridge = a < m - 1 ? Math.max(options.l2, 1e-6) : 1e-6;
      hessian[a * m + a] = (hessian[a * m + a] ?? 0) + ridge;
      if (a < m - 1) gradient[a] = (gradient[a] ?? 0) + options.l2 * (theta[a] ?? 0);
    }
    const step = solveSpd(hessian, gradient);
    let t = 1;
    let next = theta;
    let value = current;
    for (let halvings = 0; halvings < 30; halvings++, t /= 2) {
      const candidate = Float64Array.from(theta, (v, p) => v - t * (step[p] ?? 0));
      const candidateValue = objective(candidate);
      if (candidateValue <= current) {
        next = candidate;
        value = candidateValue;
        break;
      }
    }
    const change = Math.max(...next.map((v, p) => Math.abs(v - (theta[p] ?? 0))));
    const decrease = current - value;
    theta.set(next);
    current = value;
    if (change < 1e-10 || decrease <= 1e-13 * Math.abs(current)) break;
  }
  const weights = Array.from({ length: k }, (_, j) => options.fixed[j] ?? 0);
  free.forEach((j, p) => (weights[j] = theta[p] ?? 0));
  return { weights, bias: theta[m - 1] ?? 0, iterations };
}
