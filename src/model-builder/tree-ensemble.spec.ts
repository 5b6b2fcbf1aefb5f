import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { loadGermanCredit } from './german-credit.js';
import { accuracy } from './metrics.js';
import {
  createSession,
  featureTensor,
  scoreWithOnnxRuntime,
} from '../../test/support/onnx-scoring.js';
import { decodeModel, ML_DOMAIN } from './onnx-writer.js';
import {
  evaluateTree,
  trainGradientBoosting,
  treeEnsembleClassifier,
  type TreeNode,
} from './tree-ensemble.js';

const data = loadGermanCredit();
const F = data.featureNames.length;
const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const maxDifference = (a: number[], b: number[]): number =>
  Math.max(...a.map((v, i) => Math.abs(v - b[i]!)));

function depth(tree: TreeNode): number {
  return 'feature' in tree ? 1 + Math.max(depth(tree.left), depth(tree.right)) : 0;
}

describe('trainGradientBoosting', () => {
  const model = trainGradientBoosting(data);

  it('scores in ONNX Runtime as in TypeScript, better than the base rate', async () => {
    const scores = await scoreWithOnnxRuntime(model.bytes, data.X, F);
    expect(maxDifference(scores, model.predict(data.X))).toBeLessThan(1e-5);
    expect(accuracy(scores, data.y)).toBeGreaterThan(0.75);
    expect(model.trees).toHaveLength(30);
    expect(Math.max(...model.trees.map(depth))).toBe(3);
  });

  it('exports a TreeEnsembleRegressor of the ai.onnx.ml domain, then Sigmoid', async () => {
    const decoded = decodeModel(model.bytes);
    expect(decoded.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([
      ['', 17],
      [ML_DOMAIN, 3],
    ]);
    expect(decoded.graph!.node!.map((n) => [n.domain, n.opType])).toEqual([
      [ML_DOMAIN, 'TreeEnsembleRegressor'],
      ['', 'Sigmoid'],
    ]);
    const session = await createSession(model.bytes);
    expect(session.inputMetadata[0]).toMatchObject({ name: 'features', shape: ['N', F] });
    expect(session.outputMetadata[0]).toMatchObject({ name: 'score', shape: ['N', 1] });
  });

  it('learns a threshold rule exactly', async () => {
    const X = Array.from({ length: 40 }, (_, i) => Float32Array.from([i % 8, (i * 7) % 5]));
    const y = X.map((row) => (row[0]! > 2 ? 1 : 0));
    const rule = trainGradientBoosting(
      { featureNames: ['a', 'b'], X, y },
      { trees: 5, maxDepth: 1, minSamplesLeaf: 2 },
    );
    expect(rule.trees[0]).toMatchObject({ feature: 0, threshold: 2.5 });
    expect(rule.trainAccuracy).toBe(1);
    const scores = await scoreWithOnnxRuntime(rule.bytes, X, 2);
    expect(accuracy(scores, y)).toBe(1);
  });

  it('sends a missing value (NaN) to the right, in ONNX Runtime as in TypeScript', async () => {
    const row = Float32Array.from(data.X[0]!);
    row.fill(Number.NaN);
    const tree = model.trees[0]!;
    expect(evaluateTree(tree, row)).toBe(rightmostLeaf(tree));
    const [score] = await scoreWithOnnxRuntime(model.bytes, [row], F);
    expect(score).toBeCloseTo(model.predict([row])[0]!, 6);
  });

  it('also exports a TreeEnsembleClassifier with label and probabilities', async () => {
    const classifier = treeEnsembleClassifier(model);
    const session = await createSession(classifier.bytes);
    expect(session.outputNames).toEqual(['label', 'probabilities']);
    const rows = data.X.slice(0, 200);
    const outputs = await session.run({ features: featureTensor(rows, F) });
    const labels = Array.from(outputs['label']!.data as BigInt64Array, Number);
    const probabilities = Array.from(outputs['probabilities']!.data as Float32Array);
    expect(outputs['probabilities']!.dims).toEqual([200, 2]);
    const expected = classifier.predictProbabilities(rows);
    const scores = model.predict(rows);
    expected.forEach(([p0, p1], i) => {
      expect(probabilities[2 * i]).toBeCloseTo(p0, 5);
      expect(probabilities[2 * i + 1]).toBeCloseTo(p1, 5);
      expect(p1).toBeCloseTo(scores[i]!, 12);
      if (Math.abs(p1 - 0.5) > 1e-5) expect(labels[i]).toBe(p1 > 0.5 ? 1 : 0);
    });
  });

  it('is deterministic', () => {
    expect(sha256(trainGradientBoosting(data).bytes)).toBe(sha256(model.bytes));
    const again = treeEnsembleClassifier(trainGradientBoosting(data));
    expect(sha256(again.bytes)).toBe(sha256(treeEnsembleClassifier(model).bytes));
  });
});

function rightmostLeaf(tree: TreeNode): number {
  return 'feature' in tree ? rightmostLeaf(tree.right) : tree.value;
}
