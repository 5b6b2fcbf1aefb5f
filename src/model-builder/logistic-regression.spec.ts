import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { loadGermanCredit } from './german-credit.js';
import { trainLogisticRegression } from './logistic-regression.js';
import { accuracy } from './metrics.js';
import { createSession, runScores, scoreWithOnnxRuntime } from '../../test/support/onnx-scoring.js';
import { decodeModel } from './onnx-writer.js';
import { sigmoid } from './scoring-model.js';
import { standardizeRows } from './standardize.js';

const data = loadGermanCredit();
const F = data.featureNames.length;
const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const maxDifference = (a: number[], b: number[]): number =>
  Math.max(...a.map((v, i) => Math.abs(v - b[i]!)));

describe('trainLogisticRegression', () => {
  const model = trainLogisticRegression(data);

  it('scores in ONNX Runtime as in TypeScript, better than the base rate', async () => {
    const scores = await scoreWithOnnxRuntime(model.bytes, data.X, F);
    expect(scores).toHaveLength(1000);
    expect(maxDifference(scores, model.predict(data.X))).toBeLessThan(1e-5);
    expect(model.trainAccuracy).toBeGreaterThan(0.75);
    expect(accuracy(scores, data.y)).toBeCloseTo(model.trainAccuracy, 2);
    expect(model.featureNames).toEqual(data.featureNames);
    expect(model.weights).toHaveLength(F);
  });

  it('takes features [N, F] and gives score [N, 1]', async () => {
    const session = await createSession(model.bytes);
    expect(session.inputMetadata).toMatchObject([
      { name: 'features', type: 'float32', shape: ['N', F] },
    ]);
    expect(session.outputMetadata).toMatchObject([
      { name: 'score', type: 'float32', shape: ['N', 1] },
    ]);
    const nodes = decodeModel(model.bytes).graph!.node!.map((n) => n.opType);
    expect(nodes).toEqual(['Sub', 'Div', 'Gemm', 'Sigmoid']);
  });

  it('stops at the minimum of the penalized loss (gradient ≈ 0)', () => {
    const Z = standardizeRows(data.X, model.standardizer, [...Array(F).keys()]);
    const gradient = new Array<number>(F + 1).fill(0);
    Z.forEach((z, i) => {
      const p = sigmoid(z.reduce((s, v, j) => s + v * model.weights[j]!, model.bias));
      z.forEach((v, j) => (gradient[j]! += (p - data.y[i]!) * v));
      gradient[F]! += p - data.y[i]!;
    });
    model.weights.forEach((w, j) => (gradient[j]! += 1 * w));
    expect(Math.max(...gradient.map(Math.abs))).toBeLessThan(1e-3);
    expect(model.iterations).toBeLessThan(20);
  });

  it('uses only the feature subset it was given, still taking every column', async () => {
    const used = ['Duration', 'Amount', 'CheckingAccountStatus.none'];
    const subset = trainLogisticRegression(data, { features: used });
    expect(subset.usedFeatures).toEqual(used);
    expect(subset.weights).toHaveLength(3);
    expect(decodeModel(subset.bytes).graph!.node![0]!.opType).toBe('Gather');
    const session = await createSession(subset.bytes);
    const rows = data.X.slice(0, 20);
    const before = await runScores(session, rows, F);
    // Scrambling an unused column (Age, index 4) changes nothing.
    const scrambled = rows.map((row) => row.map((v, j) => (j === 4 ? v * 7 + 100 : v)));
    expect(await runScores(session, scrambled, F)).toEqual(before);
    expect(maxDifference(before, subset.predict(rows))).toBeLessThan(1e-5);
    expect(() => trainLogisticRegression(data, { features: ['Nope'] })).toThrow(
      'unknown feature Nope',
    );
  });

  it('keeps an overridden weight and fits the others around it', async () => {
    const forced = trainLogisticRegression(data, { weightOverrides: { Age: 1.5 } });
    const age = data.featureNames.indexOf('Age');
    expect(forced.weights[age]).toBe(1.5);
    expect(forced.weights[0]).not.toBe(model.weights[0]);
    const scores = await scoreWithOnnxRuntime(forced.bytes, data.X, F);
    expect(maxDifference(scores, forced.predict(data.X))).toBeLessThan(1e-5);
    expect(() =>
      trainLogisticRegression(data, { features: ['Duration'], weightOverrides: { Age: 1 } }),
    ).toThrow('weight override for unused feature Age');
  });

  it('treats a sample weight of 2 like a duplicated row (without penalty)', () => {
    const weights = data.y.map((_, i) => (i < 100 ? 2 : 1));
    const weighted = trainLogisticRegression(data, { sampleWeights: weights, l2: 0 });
    const duplicated = trainLogisticRegression(
      {
        featureNames: data.featureNames,
        X: [...data.X, ...data.X.slice(0, 100)],
        y: [...data.y, ...data.y.slice(0, 100)],
      },
      { l2: 0 },
    );
    expect(maxDifference(weighted.predict(data.X), duplicated.predict(data.X))).toBeLessThan(1e-5);
  });

  it('is deterministic: the same data gives the same bytes', () => {
    expect(sha256(trainLogisticRegression(data).bytes)).toBe(sha256(model.bytes));
    expect(sha256(trainLogisticRegression(data, { l2: 2 }).bytes)).not.toBe(sha256(model.bytes));
  });
});
