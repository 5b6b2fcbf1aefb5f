import { describe, expect, it } from '@jest/globals';
import { createSession, runScores } from '../../test/support/onnx-scoring.js';
import { encodeModel } from './onnx-writer.js';
import {
  addSelectColumns,
  checkTrainingData,
  featureIndexes,
  scoringGraph,
  scoringMetadata,
  SCORE_OUTPUT,
  sigmoid,
} from './scoring-model.js';

describe('scoring-model conventions', () => {
  it('declares features [N, F] → score [N, 1], and selects columns with a Gather', async () => {
    const { g, features } = scoringGraph('pick', 3);
    const picked = addSelectColumns(g, features, ['a', 'b', 'c'], ['c']);
    g.op('Identity', [picked], { output: SCORE_OUTPUT });
    const session = await createSession(encodeModel(g.build()));
    expect(session.inputMetadata).toMatchObject([{ name: 'features', shape: ['N', 3] }]);
    expect(session.outputMetadata).toMatchObject([{ name: 'score', shape: ['N', 1] }]);
    const X = [Float32Array.from([1, 2, 3]), Float32Array.from([4, 5, 6])];
    expect(await runScores(session, X, 3)).toEqual([3, 6]);
  });

  it('uses the input itself when every column is used in order', () => {
    const { g, features } = scoringGraph('all', 2);
    expect(addSelectColumns(g, features, ['a', 'b'], ['a', 'b'])).toBe(features);
  });

  it('describes the model in metadata', () => {
    expect(scoringMetadata('kind', ['a'], { extra: '1' })).toEqual({
      'gatehouse.model_kind': 'kind',
      'gatehouse.input': 'features',
      'gatehouse.output': 'score',
      'gatehouse.feature_names': '["a"]',
      extra: '1',
    });
  });

  it('checks training data and feature names', () => {
    const data = { featureNames: ['a', 'b'], X: [Float32Array.from([1, 2])], y: [1] };
    expect(() => {
      checkTrainingData(data);
    }).not.toThrow();
    expect(() => {
      checkTrainingData({ ...data, y: [] });
    }).toThrow('1 rows but 0 labels');
    expect(() => {
      checkTrainingData({ ...data, X: [Float32Array.from([1])] });
    }).toThrow('expected 2');
    expect(() => {
      checkTrainingData(data, [1, 1]);
    }).toThrow('2 sample weights');
    expect(featureIndexes(['a', 'b', 'c'], ['c', 'a'])).toEqual([2, 0]);
    expect(() => featureIndexes(['a'], [])).toThrow('empty');
  });

  it('computes a stable sigmoid', () => {
    expect(sigmoid(0)).toBe(0.5);
    expect(sigmoid(-1000)).toBe(0);
    expect(sigmoid(1000)).toBe(1);
    expect(sigmoid(2) + sigmoid(-2)).toBeCloseTo(1, 15);
  });
});
