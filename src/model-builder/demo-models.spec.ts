import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { buildGermanCreditModels, reweighingWeights } from './demo-models.js';
import { accuracy, disparateImpact, selectionRates } from './metrics.js';
import { createSession, runScores } from '../../test/support/onnx-scoring.js';

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const models = buildGermanCreditModels();
const { data } = models;
const F = data.featureNames.length;

interface Measured {
  accuracy: number;
  sex: Record<string, number>;
  age: Record<string, number>;
  diSex: number;
  diAge: number;
}

async function measure(bytes: Uint8Array): Promise<Measured> {
  const scores = await runScores(await createSession(bytes), data.X, F);
  const sex = selectionRates(scores, data.sex);
  const age = selectionRates(scores, data.ageGroup);
  return {
    accuracy: accuracy(scores, data.y),
    sex,
    age,
    diSex: disparateImpact(sex),
    diAge: disparateImpact(age),
  };
}

function describeMeasured(name: string, m: Measured): string {
  const rates = (r: Record<string, number>): string =>
    Object.entries(r)
      .map(([group, rate]) => `${group} ${rate.toFixed(3)}`)
      .join(', ');
  return `${name}: accuracy ${m.accuracy.toFixed(3)}; sex: ${rates(m.sex)} (DI ${m.diSex.toFixed(3)}); age_group: ${rates(m.age)} (DI ${m.diAge.toFixed(3)})`;
}

describe('buildGermanCreditModels', () => {
  it('gives a fair, an unfair, an MLP and a trees model, measured with ONNX Runtime', async () => {
    const fair = await measure(models.fair.bytes);
    const unfair = await measure(models.unfair.bytes);
    const mlp = await measure(models.mlp.bytes);
    const trees = await measure(models.trees.bytes);
    console.log(
      [
        describeMeasured('fair', fair),
        describeMeasured('unfair', unfair),
        describeMeasured('mlp', mlp),
        describeMeasured('trees', trees),
      ].join('\n'),
    );
    // Four-fifths rule at threshold 0.5: met on both attributes by `fair`...
    expect(fair.diSex).toBeGreaterThanOrEqual(0.8);
    expect(fair.diAge).toBeGreaterThanOrEqual(0.8);
    // ...and clearly failed by `unfair`, on both.
    expect(unfair.diSex).toBeLessThan(0.75);
    expect(unfair.diAge).toBeLessThan(0.75);
    for (const m of [fair, unfair, mlp, trees]) expect(m.accuracy).toBeGreaterThan(0.7);
  });

  it('keeps sex and age proxies out of the fair model and in the unfair one', () => {
    expect(models.fair.usedFeatures).not.toContain('Age');
    expect(models.fair.usedFeatures.some((f) => f.startsWith('Personal.'))).toBe(false);
    expect(models.unfair.usedFeatures).toEqual(data.featureNames);
  });

  it('gives every model the same input, features [N, 60]', async () => {
    for (const bytes of [
      models.fair.bytes,
      models.unfair.bytes,
      models.mlp.bytes,
      models.trees.bytes,
      models.treesClassifier.bytes,
      models.faulty.nan.bytes,
      models.faulty.slow.bytes,
      models.faulty.constant.bytes,
      models.faulty.erroring.bytes,
      models.faulty.erroringOnBatch.bytes,
    ]) {
      const session = await createSession(bytes);
      expect(session.inputMetadata).toMatchObject([
        { name: 'features', type: 'float32', shape: ['N', 60] },
      ]);
    }
    const wrong = await createSession(models.faulty.wrongSignature.bytes);
    expect(wrong.inputMetadata).toMatchObject([{ name: 'input', shape: ['N', 61] }]);
  });

  it('builds byte-identical models every time', () => {
    const again = buildGermanCreditModels({ data });
    const digests = (m: typeof models): string[] => [
      sha256(m.fair.bytes),
      sha256(m.unfair.bytes),
      sha256(m.mlp.bytes),
      sha256(m.trees.bytes),
      sha256(m.treesClassifier.bytes),
      ...Object.values(m.faulty).map((f) => sha256(f.bytes)),
    ];
    const first = digests(models);
    expect(digests(again)).toEqual(first);
    expect(new Set(first).size).toBe(first.length);
  });
});

describe('reweighingWeights', () => {
  it('makes the weighted label rate equal across groups', () => {
    const weights = reweighingWeights(data.y, [data.sex]);
    const rate = (group: string): number => {
      let good = 0;
      let all = 0;
      data.y.forEach((y, i) => {
        if (data.sex[i] !== group) return;
        good += weights[i]! * y;
        all += weights[i]!;
      });
      return good / all;
    };
    expect(rate('female')).toBeCloseTo(0.7, 10);
    expect(rate('male')).toBeCloseTo(0.7, 10);
    expect(weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1000, 8);
  });
});
