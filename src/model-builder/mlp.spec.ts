import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { loadGermanCredit } from './german-credit.js';
import { accuracy } from './metrics.js';
import { trainMlp } from './mlp.js';
import { createSession, scoreWithOnnxRuntime } from '../../test/support/onnx-scoring.js';
import { decodeModel } from './onnx-writer.js';

const data = loadGermanCredit();
const F = data.featureNames.length;
const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

describe('trainMlp', () => {
  const model = trainMlp(data);

  it('scores in ONNX Runtime as in TypeScript, and fits the training data', async () => {
    const scores = await scoreWithOnnxRuntime(model.bytes, data.X, F);
    const expected = model.predict(data.X);
    expect(Math.max(...scores.map((s, i) => Math.abs(s - expected[i]!)))).toBeLessThan(1e-5);
    expect(accuracy(scores, data.y)).toBeGreaterThan(0.75);
    expect(model.trainAccuracy).toBeCloseTo(accuracy(scores, data.y), 2);
  });

  it('is one hidden ReLU layer of 16 units between features [N, F] and score [N, 1]', async () => {
    expect(model.w1).toHaveLength(F);
    expect(model.w1[0]).toHaveLength(16);
    expect(model.w2).toHaveLength(16);
    const nodes = decodeModel(model.bytes).graph!.node!.map((n) => n.opType);
    expect(nodes).toEqual(['Sub', 'Div', 'Gemm', 'Relu', 'Gemm', 'Sigmoid']);
    const session = await createSession(model.bytes);
    expect(session.inputMetadata[0]).toMatchObject({ name: 'features', shape: ['N', F] });
    expect(session.outputMetadata[0]).toMatchObject({ name: 'score', shape: ['N', 1] });
  });

  it('is deterministic for a seed, and the seed matters', () => {
    expect(sha256(trainMlp(data).bytes)).toBe(sha256(model.bytes));
    expect(sha256(trainMlp(data, { seed: 43 }).bytes)).not.toBe(sha256(model.bytes));
  });

  it('takes a feature subset, a width and sample weights', async () => {
    const small = trainMlp(data, {
      features: ['Duration', 'Amount', 'CheckingAccountStatus.none'],
      hidden: 4,
      epochs: 5,
      sampleWeights: data.y.map((y) => (y === 1 ? 1 : 2)),
    });
    expect(small.w1).toHaveLength(3);
    expect(small.b1).toHaveLength(4);
    const scores = await scoreWithOnnxRuntime(small.bytes, data.X.slice(0, 50), F);
    const expected = small.predict(data.X.slice(0, 50));
    expect(Math.max(...scores.map((s, i) => Math.abs(s - expected[i]!)))).toBeLessThan(1e-5);
  });
});
