import { accuracy } from './metrics.js';
import { mulberry32 } from './random.js';
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

export interface MlpOptions extends TrainingOptions {
  /** Hidden units (ReLU). Default 16. */
  readonly hidden?: number;
  /** Passes over the training rows. Default 20. */
  readonly epochs?: number;
  /** Default 32. */
  readonly batchSize?: number;
  /** Adam step size. Default 0.01. */
  readonly learningRate?: number;
  /** L2 penalty on the weights (not biases), per row. Default 0.03. */
  readonly l2?: number;
  /** Seeds the initial weights and the order of rows in each epoch. Default 42. */
  readonly seed?: number;
}

export interface MlpModel extends ScoringModel {
  readonly kind: 'mlp';
  readonly usedFeatures: readonly string[];
  readonly standardizer: Standardizer;
  /** [used features][hidden], float32 values. */
  readonly w1: readonly (readonly number[])[];
  readonly b1: readonly number[];
  /** [hidden]. */
  readonly w2: readonly number[];
  readonly b2: number;
  readonly trainAccuracy: number;
}

/**
 * A multilayer perceptron with one hidden ReLU layer and a sigmoid output, trained on the
 * standardized features with mini-batch Adam on the (weighted) log loss. Deterministic: all
 * randomness comes from the seed.
 *
 * ONNX graph: features [N, F] → (Gather) → Sub mean → Div std → Gemm (w1, b1) → Relu →
 * Gemm (w2, b2) → Sigmoid → score [N, 1].
 */
export function trainMlp(data: TrainingData, options: MlpOptions = {}): MlpModel {
  checkTrainingData(data, options.sampleWeights);
  const hidden = options.hidden ?? 16;
  const epochs = options.epochs ?? 20;
  const batchSize = options.batchSize ?? 32;
  const learningRate = options.learningRate ?? 0.01;
  const l2 = options.l2 ?? 0.03;
  const random = mulberry32(options.seed ?? 42);
  const columns = featureIndexes(data.featureNames, options.features);
  const usedFeatures = columns.map((c) => data.featureNames[c] ?? '');
  const standardizer = fitStandardizer(data.X, columns);
  const Z = standardizeRows(data.X, standardizer, columns);
  const f = columns.length;
  const n = Z.length;

  // Parameters in one vector: w1 (f×hidden, row-major), b1 (hidden), w2 (hidden), b2.
  const offW1 = 0;
  const offB1 = f * hidden;
  const offW2 = offB1 + hidden;
  const offB2 = offW2 + hidden;
  const size = offB2 + 1;
  const params = new Float64Array(size);
  const penalized = new Uint8Array(size);
  const heScale = Math.sqrt(2 / f);
  for (let i = 0; i < f * hidden; i++) {
    params[offW1 + i] = random.normal() * heScale;
    penalized[offW1 + i] = 1;
  }
  for (let h = 0; h < hidden; h++) {
    params[offW2 + h] = random.normal() * Math.sqrt(1 / hidden);
    penalized[offW2 + h] = 1;
  }

  const m = new Float64Array(size);
  const v = new Float64Array(size);
  const beta1 = 0.9;
  const beta2 = 0.999;
  let step = 0;
  const order = Array.from({ length: n }, (_, i) => i);
  const activation = new Float64Array(hidden);
  const grad = new Float64Array(size);
  for (let epoch = 0; epoch < epochs; epoch++) {
    random.shuffle(order);
    for (let start = 0; start < n; start += batchSize) {
      const batch = order.slice(start, start + batchSize);
      grad.fill(0);
      for (const i of batch) {
        const z = Z[i] ?? new Float64Array(f);
        let out = params[offB2] ?? 0;
        for (let h = 0; h < hidden; h++) {
          let a = params[offB1 + h] ?? 0;
          for (let j = 0; j < f; j++) a += (z[j] ?? 0) * (params[offW1 + j * hidden + h] ?? 0);
          activation[h] = a > 0 ? a : 0;
          out += (activation[h] ?? 0) * (params[offW2 + h] ?? 0);
        }
        const delta = (options.sampleWeights?.[i] ?? 1) * (sigmoid(out) - (data.y[i] ?? 0));
        grad[offB2] = (grad[offB2] ?? 0) + delta;
        for (let h = 0; h < hidden; h++) {
          grad[offW2 + h] = (grad[offW2 + h] ?? 0) + delta * (activation[h] ?? 0);
          if ((activation[h] ?? 0) <= 0) continue;
          const back = delta * (params[offW2 + h] ?? 0);
          grad[offB1 + h] = (grad[offB1 + h] ?? 0) + back;
          for (let j = 0; j < f; j++) {
            grad[offW1 + j * hidden + h] = (grad[offW1 + j * hidden + h] ?? 0) + back * (z[j] ?? 0);
          }
        }
      }
      step++;
      const correction1 = 1 - beta1 ** step;
      const correction2 = 1 - beta2 ** step;
      for (let p = 0; p < size; p++) {
        const value = params[p] ?? 0;
        const g = (grad[p] ?? 0) / batch.length + (penalized[p] ? l2 * value : 0);
        m[p] = beta1 * (m[p] ?? 0) + (1 - beta1) * g;
        v[p] = beta2 * (v[p] ?? 0) + (1 - beta2) * g * g;
        const mHat = (m[p] ?? 0) / correction1;
        const vHat = (v[p] ?? 0) / correction2;
        params[p] = value - (learningRate * mHat) / (Math.sqrt(vHat) + 1e-8);
      }
    }
  }

  const rounded = Array.from(params, (p) => Math.fround(p));
  const w1 = Array.from({ length: f }, (_, j) =>
    rounded.slice(offW1 + j * hidden, offW1 + (j + 1) * hidden),
  );
  const b1 = rounded.slice(offB1, offB1 + hidden);
  const w2 = rounded.slice(offW2, offW2 + hidden);
  const b2 = rounded[offB2] ?? 0;
  const predict = (X: readonly Float32Array[]): number[] =>
    standardizeRows(X, standardizer, columns).map((z) => {
      let out = b2;
      for (let h = 0; h < hidden; h++) {
        let a = b1[h] ?? 0;
        for (let j = 0; j < f; j++) a += (z[j] ?? 0) * (w1[j]?.[h] ?? 0);
        out += Math.max(a, 0) * (w2[h] ?? 0);
      }
      return sigmoid(out);
    });

  const { g, features } = scoringGraph(
    options.name ?? 'mlp',
    data.featureNames.length,
    options.description,
  );
  const selected = addSelectColumns(g, features, data.featureNames, usedFeatures);
  const standardized = addStandardizeNodes(g, selected, standardizer);
  const w1Name = g.float('w1', [f, hidden], w1.flat());
  const b1Name = g.float('b1', [hidden], b1);
  const preActivation = g.op('Gemm', [standardized, w1Name, b1Name], { prefix: 'hidden_in' });
  const hiddenOut = g.op('Relu', [preActivation], { prefix: 'hidden' });
  const w2Name = g.float('w2', [hidden, 1], w2);
  const b2Name = g.float('b2', [1], [b2]);
  const logit = g.op('Gemm', [hiddenOut, w2Name, b2Name], { prefix: 'logit' });
  g.op('Sigmoid', [logit], { output: SCORE_OUTPUT });
  const bytes = encodeScoringModel(
    g.build(),
    'mlp',
    data.featureNames,
    usedFeatures,
    options.description,
  );
  return {
    kind: 'mlp',
    bytes,
    featureNames: [...data.featureNames],
    usedFeatures,
    standardizer,
    w1,
    b1,
    w2,
    b2,
    trainAccuracy: accuracy(predict(data.X), data.y),
    predict,
  };
}
