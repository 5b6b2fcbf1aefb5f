import { accuracy } from './metrics.js';
import {
  attr,
  BATCH_DIM,
  encodeModel,
  GraphBuilder,
  ML_DOMAIN,
  type AttributeProto,
} from './onnx-writer.js';
import {
  checkTrainingData,
  FEATURES_INPUT,
  featureIndexes,
  scoringGraph,
  encodeScoringModel,
  scoringMetadata,
  type TrainingOptions,
  SCORE_OUTPUT,
  sigmoid,
  type ScoringModel,
  type TrainingData,
} from './scoring-model.js';

export interface GradientBoostingOptions extends TrainingOptions {
  /** Boosting rounds, one tree each. Default 30. */
  readonly trees?: number;
  /** Default 3 (at most 8 leaves per tree). */
  readonly maxDepth?: number;
  /** Shrinkage of each tree's leaf values. Default 0.2. */
  readonly learningRate?: number;
  /** L2 penalty λ on leaf values (Newton leaf = -G / (H + λ)). Default 1. */
  readonly l2?: number;
  /** Fewest training rows in a leaf. Default 10. */
  readonly minSamplesLeaf?: number;
}

/** A regression tree over the input columns; `x[feature] <= threshold` goes left. */
export type TreeNode =
  | {
      readonly feature: number;
      readonly threshold: number;
      readonly left: TreeNode;
      readonly right: TreeNode;
    }
  | { readonly value: number };

export interface GradientBoostingModel extends ScoringModel {
  readonly kind: 'gradient_boosting';
  readonly usedFeatures: readonly string[];
  /** Log-odds before any tree (float32). */
  readonly baseValue: number;
  /** Leaf values and thresholds are float32 values, as in the graph. */
  readonly trees: readonly TreeNode[];
  readonly trainAccuracy: number;
  /** The sum of base value and tree values (the log-odds), per row. */
  margin(X: readonly Float32Array[]): number[];
}

/**
 * Gradient-boosted regression trees on the logistic loss (second-order, XGBoost-style split
 * gain and Newton leaf values), trained on the raw features. No randomness: thresholds are
 * midpoints between consecutive distinct values and ties go to the first candidate found.
 *
 * ONNX graph: features [N, F] → ai.onnx.ml TreeEnsembleRegressor (SUM of leaf values + base
 * value, [N, 1]) → Sigmoid → score [N, 1].
 */
export function trainGradientBoosting(
  data: TrainingData,
  options: GradientBoostingOptions = {},
): GradientBoostingModel {
  checkTrainingData(data, options.sampleWeights);
  const rounds = options.trees ?? 30;
  const maxDepth = options.maxDepth ?? 3;
  const learningRate = options.learningRate ?? 0.2;
  const lambda = options.l2 ?? 1;
  const minSamplesLeaf = options.minSamplesLeaf ?? 10;
  const columns = featureIndexes(data.featureNames, options.features);
  const n = data.X.length;
  const weight = (i: number): number => options.sampleWeights?.[i] ?? 1;
  const value = (i: number, c: number): number => data.X[i]?.[c] ?? 0;

  let positive = 0;
  let total = 0;
  for (let i = 0; i < n; i++) {
    positive += weight(i) * (data.y[i] ?? 0);
    total += weight(i);
  }
  const rate = Math.min(Math.max(positive / total, 1e-6), 1 - 1e-6);
  const baseValue = Math.fround(Math.log(rate / (1 - rate)));

  // For each used column, the row indexes sorted by value (ties by index).
  const sorted = columns.map((c) =>
    Array.from({ length: n }, (_, i) => i).sort((a, b) => value(a, c) - value(b, c) || a - b),
  );
  const margin = new Float64Array(n).fill(baseValue);
  const grad = new Float64Array(n);
  const hess = new Float64Array(n);
  const member = new Uint8Array(n);

  const leafValue = (rows: readonly number[]): number => {
    let G = 0;
    let H = 0;
    for (const i of rows) {
      G += grad[i] ?? 0;
      H += hess[i] ?? 0;
    }
    return Math.fround((-G / (H + lambda)) * learningRate);
  };
  const build = (rows: number[], depth: number): TreeNode => {
    if (depth >= maxDepth || rows.length < 2 * minSamplesLeaf) return { value: leafValue(rows) };
    let G = 0;
    let H = 0;
    for (const i of rows) {
      G += grad[i] ?? 0;
      H += hess[i] ?? 0;
      member[i] = 1;
    }
    const parentScore = (G * G) / (H + lambda);
    let best: { gain: number; feature: number; threshold: number } | undefined;
    columns.forEach((c, k) => {
      let GL = 0;
      let HL = 0;
      let count = 0;
      let previous: number | undefined;
      for (const i of sorted[k] ?? []) {
        if (!member[i]) continue;
        const x = value(i, c);
        if (
          previous !== undefined &&
          x > previous &&
          count >= minSamplesLeaf &&
          rows.length - count >= minSamplesLeaf
        ) {
          const GR = G - GL;
          const HR = H - HL;
          const gain = (GL * GL) / (HL + lambda) + (GR * GR) / (HR + lambda) - parentScore;
          if (gain > 1e-9 && (best === undefined || gain > best.gain)) {
            best = { gain, feature: c, threshold: splitPoint(previous, x) };
          }
        }
        GL += grad[i] ?? 0;
        HL += hess[i] ?? 0;
        count++;
        previous = x;
      }
    });
    for (const i of rows) member[i] = 0;
    if (best === undefined) return { value: leafValue(rows) };
    const { feature, threshold } = best;
    const left = rows.filter((i) => value(i, feature) <= threshold);
    const right = rows.filter((i) => !(value(i, feature) <= threshold));
    return {
      feature,
      threshold,
      left: build(left, depth + 1),
      right: build(right, depth + 1),
    };
  };

  const trees: TreeNode[] = [];
  const allRows = Array.from({ length: n }, (_, i) => i);
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < n; i++) {
      const p = sigmoid(margin[i] ?? 0);
      grad[i] = weight(i) * (p - (data.y[i] ?? 0));
      hess[i] = weight(i) * p * (1 - p);
    }
    const tree = build(allRows, 0);
    trees.push(tree);
    for (let i = 0; i < n; i++) {
      margin[i] = (margin[i] ?? 0) + evaluateTree(tree, data.X[i] ?? new Float32Array());
    }
  }

  const marginOf = (X: readonly Float32Array[]): number[] =>
    X.map((row) => trees.reduce((sum, tree) => sum + evaluateTree(tree, row), baseValue));
  const predict = (X: readonly Float32Array[]): number[] => marginOf(X).map(sigmoid);
  const usedFeatures = columns.map((c) => data.featureNames[c] ?? '');

  const { g, features } = scoringGraph(
    options.name ?? 'gradient_boosting',
    data.featureNames.length,
    options.description,
  );
  const logit = addTreeEnsembleRegressor(g, features, trees, baseValue);
  g.op('Sigmoid', [logit], { output: SCORE_OUTPUT });
  const bytes = encodeScoringModel(
    g.build(),
    'gradient_boosting',
    data.featureNames,
    usedFeatures,
    options.description,
  );
  return {
    kind: 'gradient_boosting',
    bytes,
    featureNames: [...data.featureNames],
    usedFeatures,
    baseValue,
    trees,
    trainAccuracy: accuracy(predict(data.X), data.y),
    margin: marginOf,
    predict,
  };
}

export function evaluateTree(tree: TreeNode, row: ArrayLike<number>): number {
  let node = tree;
  while ('feature' in node) {
    node = (row[node.feature] ?? Number.NaN) <= node.threshold ? node.left : node.right;
  }
  return node.value;
}

/** A float32 threshold t with a <= t < b. */
function splitPoint(a: number, b: number): number {
  const mid = Math.fround((a + b) / 2);
  return a <= mid && mid < b ? mid : a;
}

interface FlatTrees {
  treeIds: number[];
  nodeIds: number[];
  featureIds: number[];
  modes: string[];
  values: number[];
  trueIds: number[];
  falseIds: number[];
  leaves: { treeId: number; nodeId: number; value: number }[];
}

/** Numbers each tree's nodes from 0 in pre-order, as the ai.onnx.ml tree operators want. */
function flatten(trees: readonly TreeNode[]): FlatTrees {
  const flat: FlatTrees = {
    treeIds: [],
    nodeIds: [],
    featureIds: [],
    modes: [],
    values: [],
    trueIds: [],
    falseIds: [],
    leaves: [],
  };
  trees.forEach((tree, treeId) => {
    let next = 0;
    const visit = (node: TreeNode): number => {
      const id = next++;
      const position = flat.treeIds.length;
      flat.treeIds.push(treeId);
      flat.nodeIds.push(id);
      if ('feature' in node) {
        flat.featureIds.push(node.feature);
        flat.modes.push('BRANCH_LEQ');
        flat.values.push(node.threshold);
        flat.trueIds.push(0);
        flat.falseIds.push(0);
        flat.trueIds[position] = visit(node.left);
        flat.falseIds[position] = visit(node.right);
      } else {
        flat.featureIds.push(0);
        flat.modes.push('LEAF');
        flat.values.push(0);
        flat.trueIds.push(0);
        flat.falseIds.push(0);
        flat.leaves.push({ treeId, nodeId: id, value: node.value });
      }
      return id;
    };
    visit(tree);
  });
  return flat;
}

function nodeAttributes(flat: FlatTrees): AttributeProto[] {
  return [
    attr.ints('nodes_treeids', flat.treeIds),
    attr.ints('nodes_nodeids', flat.nodeIds),
    attr.ints('nodes_featureids', flat.featureIds),
    attr.strings('nodes_modes', flat.modes),
    attr.floats('nodes_values', flat.values),
    attr.ints('nodes_truenodeids', flat.trueIds),
    attr.ints('nodes_falsenodeids', flat.falseIds),
    attr.ints(
      'nodes_missing_value_tracks_true',
      flat.modes.map(() => 0),
    ),
  ];
}

/**
 * Appends an ai.onnx.ml TreeEnsembleRegressor computing base value + the sum of the trees'
 * leaf values; returns its [N, 1] output (the log-odds).
 */
export function addTreeEnsembleRegressor(
  g: GraphBuilder,
  features: string,
  trees: readonly TreeNode[],
  baseValue: number,
): string {
  const flat = flatten(trees);
  return g.op('TreeEnsembleRegressor', [features], {
    prefix: 'margin',
    domain: ML_DOMAIN,
    attributes: [
      ...nodeAttributes(flat),
      attr.ints(
        'target_treeids',
        flat.leaves.map((l) => l.treeId),
      ),
      attr.ints(
        'target_nodeids',
        flat.leaves.map((l) => l.nodeId),
      ),
      attr.ints(
        'target_ids',
        flat.leaves.map(() => 0),
      ),
      attr.floats(
        'target_weights',
        flat.leaves.map((l) => l.value),
      ),
      attr.int('n_targets', 1),
      attr.string('aggregate_function', 'SUM'),
      attr.string('post_transform', 'NONE'),
      attr.floats('base_values', [baseValue]),
    ],
  });
}

export const LABEL_OUTPUT = 'label';
export const PROBABILITIES_OUTPUT = 'probabilities';

/** A gradient-boosting model in classifier form: `label` and `probabilities` outputs. */
export interface TreeClassifierModel {
  readonly bytes: Uint8Array;
  readonly featureNames: readonly string[];
  /** Per row [P(class 0), P(class 1)]. */
  predictProbabilities(X: readonly Float32Array[]): [number, number][];
}

/**
 * The same trees as an ai.onnx.ml TreeEnsembleClassifier, the form converters such as
 * skl2onnx emit (without their ZipMap): input `features` float32 [N, F]; outputs `label` int64
 * [N] (0 or 1) and `probabilities` float32 [N, 2].
 *
 * Encoding: every leaf votes -v/2 for class 0 and +v/2 for class 1, and the base value is
 * folded into the leaves of the first tree, with post_transform SOFTMAX, so that
 * P(class 1) = softmax(-m/2, m/2)[1] = sigmoid(m). The more obvious encodings do not give
 * probabilities with ONNX Runtime 1.30, which special-cases binary classifiers: votes for class
 * 1 only with LOGISTIC give [0.5, sigmoid(m)] per row, and base_values [-b/2, b/2] with the
 * SOFTMAX encoding gave sigmoid(b - m) instead of sigmoid(b + m) in our trials.
 */
export function treeEnsembleClassifier(model: GradientBoostingModel): TreeClassifierModel {
  const flat = flatten(model.trees);
  const votes = flat.leaves.map((l) => ({
    ...l,
    value: Math.fround(l.value + (l.treeId === 0 ? model.baseValue : 0)),
  }));
  const description = 'Gradient-boosted trees, classifier form (label, probabilities).';
  const g = new GraphBuilder('gradient_boosting_classifier', description);
  const features = g.input(FEATURES_INPUT, 'float32', [BATCH_DIM, model.featureNames.length]);
  g.output(LABEL_OUTPUT, 'int64', [BATCH_DIM]);
  g.output(PROBABILITIES_OUTPUT, 'float32', [BATCH_DIM, 2]);
  const half = votes.map((v) => Math.fround(v.value / 2));
  g.opMulti('TreeEnsembleClassifier', [features], [LABEL_OUTPUT, PROBABILITIES_OUTPUT], {
    name: 'trees',
    domain: ML_DOMAIN,
    attributes: [
      ...nodeAttributes(flat),
      attr.ints(
        'class_treeids',
        [...votes, ...votes].map((v) => v.treeId),
      ),
      attr.ints(
        'class_nodeids',
        [...votes, ...votes].map((v) => v.nodeId),
      ),
      attr.ints('class_ids', [...votes.map(() => 0), ...votes.map(() => 1)]),
      attr.floats('class_weights', [...half.map((h) => -h), ...half]),
      attr.ints('classlabels_int64s', [0, 1]),
      attr.string('post_transform', 'SOFTMAX'),
    ],
  });
  const bytes = encodeModel(g.build(), {
    docString: description,
    metadata: scoringMetadata('gradient_boosting_classifier', model.featureNames, {
      'gatehouse.output': `${LABEL_OUTPUT},${PROBABILITIES_OUTPUT}`,
    }),
  });
  return {
    bytes,
    featureNames: [...model.featureNames],
    predictProbabilities: (X) =>
      model.margin(X).map((m) => {
        const p = sigmoid(m);
        return [1 - p, p];
      }),
  };
}
