import { encodeModel } from './onnx-writer.js';
import { attr, BATCH_DIM, GraphBuilder } from './onnx-writer.js';

/**
 * The convention every scoring model of this folder follows: one input `features`, float32
 * [N, F], the columns in `featureNames` order, and one output `score`, float32 [N, 1], the
 * probability of the positive class (here: good credit) in [0, 1].
 */
export const FEATURES_INPUT = 'features';
export const SCORE_OUTPUT = 'score';

/** Labelled rows to train on; `X` rows are in `featureNames` order. */
export interface TrainingData {
  readonly featureNames: readonly string[];
  readonly X: readonly Float32Array[];
  readonly y: readonly number[];
}

/** What every builder returns. */
export interface ScoringModel {
  /** The ONNX file. */
  readonly bytes: Uint8Array;
  /** The columns of the `features` input, in order (F = featureNames.length). */
  readonly featureNames: readonly string[];
  /**
   * The same computation in TypeScript (float64 arithmetic over the float32 parameters
   * written to the graph), for tests: agrees with ONNX Runtime to about 1e-6.
   */
  predict(X: readonly Float32Array[]): number[];
}

/** The input signature a model must share with another (faulty models copy a base's). */
export interface Signature {
  readonly featureNames: readonly string[];
}

/** A graph with the `features` input and `score` output declared. */
export function scoringGraph(
  name: string,
  featureCount: number,
  docString = '',
): { g: GraphBuilder; features: string } {
  const g = new GraphBuilder(name, docString);
  const features = g.input(FEATURES_INPUT, 'float32', [BATCH_DIM, featureCount]);
  g.output(SCORE_OUTPUT, 'float32', [BATCH_DIM, 1]);
  return { g, features };
}

/** Metadata written into every model: what it is and which columns it expects. */
export function scoringMetadata(
  kind: string,
  featureNames: readonly string[],
  extra: Readonly<Record<string, string>> = {},
): Record<string, string> {
  return {
    'gatehouse.model_kind': kind,
    'gatehouse.input': FEATURES_INPUT,
    'gatehouse.output': SCORE_OUTPUT,
    'gatehouse.feature_names': JSON.stringify(featureNames),
    ...extra,
  };
}

export function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

/** Indexes of `subset` within `featureNames`; all of them, in order, when `subset` is unset. */
export function featureIndexes(
  featureNames: readonly string[],
  subset: readonly string[] | undefined,
): number[] {
  if (subset === undefined) return featureNames.map((_, i) => i);
  if (subset.length === 0) throw new Error('the feature subset is empty');
  return subset.map((name) => {
    const index = featureNames.indexOf(name);
    if (index < 0) throw new Error(`unknown feature ${name}`);
    return index;
  });
}

export function checkTrainingData(data: TrainingData, sampleWeights?: readonly number[]): void {
  const n = data.X.length;
  if (n === 0) throw new Error('no training rows');
  if (data.y.length !== n) throw new Error(`${n} rows but ${data.y.length} labels`);
  if (sampleWeights !== undefined && sampleWeights.length !== n) {
    throw new Error(`${n} rows but ${sampleWeights.length} sample weights`);
  }
  for (const row of data.X) {
    if (row.length !== data.featureNames.length) {
      throw new Error(`a row has ${row.length} features, expected ${data.featureNames.length}`);
    }
  }
}

/**
 * The columns `used` of `features` (whose columns are `featureNames`): a Gather on axis 1, or
 * `features` itself when every column is used in order.
 */
export function addSelectColumns(
  g: GraphBuilder,
  features: string,
  featureNames: readonly string[],
  used: readonly string[],
): string {
  const columns = featureIndexes(featureNames, used);
  if (columns.length === featureNames.length && columns.every((c, i) => c === i)) return features;
  const indexes = g.int64('used_columns', [columns.length], columns);
  return g.op('Gather', [features, indexes], {
    prefix: 'used_features',
    attributes: [attr.int('axis', 1)],
  });
}

/** Options every trainer takes. */
export interface TrainingOptions {
  /**
   * The features the model uses (default: all). The model still takes every column of the
   * training data as input, in the same order, and ignores the others (a Gather in the graph),
   * so models built with different subsets are interchangeable behind one endpoint.
   */
  readonly features?: readonly string[];
  /** Per-row weights (default all 1). */
  readonly sampleWeights?: readonly number[];
  /** The graph's name and doc string. */
  readonly name?: string;
  readonly description?: string;
}

/** Serializes a finished scoring graph with its `gatehouse.*` metadata. */
export function encodeScoringModel(
  graph: Parameters<typeof encodeModel>[0],
  kind: string,
  featureNames: readonly string[],
  usedFeatures: readonly string[],
  description: string | undefined,
): Uint8Array {
  return encodeModel(graph, {
    docString: description ?? '',
    metadata: scoringMetadata(kind, featureNames, {
      'gatehouse.used_features': JSON.stringify(usedFeatures),
    }),
  });
}
