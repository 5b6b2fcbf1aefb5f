import { describe, expect, it } from '@jest/globals';
import { driftBaseline } from '../evaluation/metrics/drift.js';
import type { ScoringSpec } from '../runtime/scoring.js';
import { episodeChange, windowDrift, windowValues } from './drift-window.js';

const layout: ScoringSpec = {
  inputName: 'features',
  featureColumns: ['age', 'amount'],
  scoreOutput: 'score',
  scoreIndex: 0,
  threshold: 0.5,
};

/** A logged prediction of `rows` (each [age, amount]) and their scores. */
const logged = (rows: number[][], scores: number[]) => ({
  inputs: [{ name: 'features', datatype: 'FP32', shape: [rows.length, 2], data: rows.flat() }],
  outputs: [{ name: 'score', datatype: 'FP32', shape: [scores.length, 1], data: scores }],
});

describe('windowValues', () => {
  it('splits logged tensors into feature columns and scores, row by row', () => {
    const values = windowValues(
      [
        logged(
          [
            [30, 1000],
            [40, 2000],
          ],
          [0.2, 0.7],
        ),
        logged([[50, 3000]], [0.9]),
      ],
      layout,
    );
    expect(values.predictions).toBe(2);
    expect(values.rows).toBe(3);
    expect(Array.from(values.features[0]!)).toEqual([30, 40, 50]);
    expect(Array.from(values.features[1]!)).toEqual([1000, 2000, 3000]);
    expect(Array.from(values.scores)).toEqual([0.2, 0.7, 0.9]);
  });

  it('takes the score at scoreIndex of a two-column output', () => {
    const prediction = {
      inputs: logged([[30, 1000]], [0]).inputs,
      outputs: [{ name: 'score', datatype: 'FP32', shape: [1, 2], data: [0.4, 0.6] }],
    };
    expect(Array.from(windowValues([prediction], { ...layout, scoreIndex: 1 }).scores)).toEqual([
      0.6,
    ]);
  });

  it('skips rows with a non-finite value and predictions of another layout', () => {
    const values = windowValues(
      [
        logged(
          [
            [30, Number.NaN],
            [40, 2000],
          ],
          [0.1, 0.2],
        ),
        { inputs: [{ name: 'features', shape: [1, 3], data: [1, 2, 3] }], outputs: [] },
        { inputs: 'not tensors', outputs: null },
      ],
      layout,
    );
    expect(values.rows).toBe(1);
    expect(Array.from(values.scores)).toEqual([0.2]);
  });
});

describe('windowDrift', () => {
  const ages = Array.from({ length: 1000 }, (_, i) => 20 + (i % 50));
  const amounts = Array.from({ length: 1000 }, (_, i) => 500 + ((i * 37) % 5000));
  const scores = Array.from({ length: 1000 }, (_, i) => (i % 100) / 100);
  const baseline = {
    score: driftBaseline(Float64Array.from(scores)),
    features: {
      age: driftBaseline(Float64Array.from(ages)),
      amount: driftBaseline(Float64Array.from(amounts)),
    },
  };
  const served = (shift: number) =>
    windowValues(
      [
        logged(
          ages.map((a, i) => [a + shift, amounts[i]!]),
          scores,
        ),
      ],
      layout,
    );

  it('is near zero for the baseline data itself', () => {
    const drift = windowDrift(baseline, layout, served(0));
    expect(drift.rows).toBe(1000);
    expect(drift.maxPsi).toBeLessThan(1e-9);
    expect(drift.features.map((f) => f.feature)).toEqual(['age', 'amount']);
  });

  it('names the shifted feature and leaves the others alone', () => {
    const drift = windowDrift(baseline, layout, served(30));
    const [age, amount] = drift.features;
    expect(age!.psi).toBeGreaterThan(1);
    expect(amount!.psi).toBeLessThan(1e-9);
    expect(drift.scorePsi).toBeLessThan(1e-9);
    expect(drift.maxPsi).toBe(age!.psi);
  });

  it('has nothing to say about an empty window', () => {
    expect(windowDrift(baseline, layout, windowValues([], layout))).toEqual({
      rows: 0,
      scorePsi: null,
      features: [],
      maxPsi: 0,
    });
  });
});

describe('episodeChange', () => {
  it('opens above the threshold, holds while above, closes at or below it', () => {
    expect(episodeChange(false, 0.3, 0.2)).toBe('open');
    expect(episodeChange(true, 0.3, 0.2)).toBeNull();
    expect(episodeChange(true, 0.2, 0.2)).toBe('close');
    expect(episodeChange(false, 0.1, 0.2)).toBeNull();
  });
});
