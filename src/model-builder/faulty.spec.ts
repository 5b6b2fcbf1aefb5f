import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import {
  constantModel,
  erroringModel,
  nanAboveModel,
  nanModel,
  slowModel,
  wrongSignatureModel,
} from './faulty.js';
import { loadGermanCredit } from './german-credit.js';
import { trainLogisticRegression } from './logistic-regression.js';
import { createSession, featureTensor, runScores } from '../../test/support/onnx-scoring.js';
import { decodeModel } from './onnx-writer.js';
import { trainGradientBoosting } from './tree-ensemble.js';

const data = loadGermanCredit();
const F = data.featureNames.length;
const base = trainLogisticRegression(data, { features: data.featureNames.slice(0, 20) });
const rows = data.X.slice(0, 8);
const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

describe('faulty models', () => {
  it('nanModel scores every row NaN, with the base signature', async () => {
    const model = nanModel(base);
    const session = await createSession(model.bytes);
    expect(session.inputMetadata[0]).toMatchObject({ name: 'features', shape: ['N', F] });
    const scores = await runScores(session, rows, F);
    expect(scores).toHaveLength(8);
    expect(scores.every(Number.isNaN)).toBe(true);
    expect(model.predict(rows).every(Number.isNaN)).toBe(true);
  });

  it('constantModel scores every row p, whatever the features', async () => {
    const session = await createSession(constantModel(base, 0.25).bytes);
    expect(await runScores(session, rows, F)).toEqual(new Array(8).fill(0.25));
    const nan = [new Float32Array(F).fill(Number.NaN)];
    expect(await runScores(session, nan, F)).toEqual([0.25]);
    expect(() => constantModel(base, 1.5)).toThrow('must be in [0, 1]');
  });

  it('wrongSignatureModel has another input name and width', async () => {
    const model = wrongSignatureModel(base);
    const session = await createSession(model.bytes);
    expect(session.inputMetadata).toMatchObject([{ name: 'input', shape: ['N', F + 1] }]);
    expect(session.outputNames).toEqual(['score']);
    await expect(session.run({ features: featureTensor(rows, F) })).rejects.toThrow();
    const wide = rows.map((row) => Float32Array.from([...row, 1]));
    const scores = await runScores(session, wide, F + 1, 'input');
    scores.forEach((s, i) => {
      expect(s).toBeCloseTo(model.predict(wide)[i]!, 6);
    });
    const narrow = wrongSignatureModel(base, { inputName: 'features', featureCount: F - 1 });
    const narrowSession = await createSession(narrow.bytes);
    expect(narrowSession.inputMetadata).toMatchObject([{ name: 'features', shape: ['N', F - 1] }]);
    await expect(narrowSession.run({ features: featureTensor(rows, F) })).rejects.toThrow();
  });

  it('slowModel gives the base scores exactly, tens of milliseconds per row', async () => {
    const model = slowModel(base);
    const ops = decodeModel(model.bytes).graph!.node!.map((n) => n.opType);
    expect(ops).toContain('Loop');
    const session = await createSession(model.bytes);
    const baseSession = await createSession(base.bytes);
    expect(await runScores(session, rows, F)).toEqual(await runScores(baseSession, rows, F));
    const one = rows.slice(0, 1);
    const timings: number[] = [];
    for (let k = 0; k < 5; k++) {
      const start = performance.now();
      await runScores(session, one, F);
      timings.push(performance.now() - start);
    }
    timings.sort((a, b) => a - b);
    const median = timings[2]!;
    console.log(
      `slowModel (12000 iterations, width 256): single-row run median ${median.toFixed(1)} ms, min ${timings[0]!.toFixed(1)} ms, max ${timings[4]!.toFixed(1)} ms`,
    );
    // A lower bound only: a loaded machine makes it slower, never faster.
    expect(median).toBeGreaterThan(15);
  });

  it('slowModel wraps any scoring model, e.g. trees (ai.onnx.ml)', async () => {
    const trees = trainGradientBoosting(data, { trees: 3 });
    const slow = slowModel(trees, { iterations: 10 });
    const scores = await runScores(await createSession(slow.bytes), rows, F);
    expect(scores).toEqual(await runScores(await createSession(trees.bytes), rows, F));
  });

  it('erroringModel fails at run time, not when the session is created', async () => {
    const always = await createSession(erroringModel(base, 'always').bytes);
    await expect(runScores(always, rows.slice(0, 1), F)).rejects.toThrow(/Reshape/);
    await expect(runScores(always, rows, F)).rejects.toThrow(/Reshape/);
    const batch = await createSession(erroringModel(base, 'batch').bytes);
    const baseSession = await createSession(base.bytes);
    expect(await runScores(batch, rows.slice(0, 1), F)).toEqual(
      await runScores(baseSession, rows.slice(0, 1), F),
    );
    await expect(runScores(batch, rows.slice(0, 2), F)).rejects.toThrow(/cannot be reshaped/);
  });

  it('odd-batch erroring fails single rows and succeeds on even batches', async () => {
    const odd = await createSession(erroringModel(base, 'odd-batch').bytes);
    const baseSession = await createSession(base.bytes);
    await expect(runScores(odd, rows.slice(0, 1), F)).rejects.toThrow(/reshape/i);
    await expect(runScores(odd, rows.slice(0, 3), F)).rejects.toThrow(/reshape/i);
    expect(await runScores(odd, rows, F)).toEqual(await runScores(baseSession, rows, F));
  });

  it('nanAboveModel is the base model but NaN outside the range', async () => {
    const model = nanAboveModel(base, 1, 10_000);
    const session = await createSession(model.bytes);
    const baseScores = await runScores(await createSession(base.bytes), rows, F);
    expect(await runScores(session, rows, F)).toEqual(baseScores);
    const outside = rows.map((r) => {
      const copy = Float32Array.from(r);
      copy[1] = 50_000;
      return copy;
    });
    const scores = await runScores(session, outside, F);
    expect(scores.every(Number.isNaN)).toBe(true);
    expect(model.predict(outside).every(Number.isNaN)).toBe(true);
  });

  it('is deterministic', () => {
    for (const build of [
      () => nanModel(base),
      () => constantModel(base, 0.3),
      () => wrongSignatureModel(base),
      () => slowModel(base, { iterations: 50 }),
      () => erroringModel(base, 'batch'),
    ]) {
      expect(sha256(build().bytes)).toBe(sha256(build().bytes));
    }
  });
});
