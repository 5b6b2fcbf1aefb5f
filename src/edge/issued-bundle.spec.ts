import { describe, expect, it } from '@jest/globals';
import type { PredictionArm } from '../prediction-log/prediction.js';
import { armRefusal, armsOf, type IssuedBundle } from './issued-bundle.js';

const digest = 'b'.repeat(64);
const live: IssuedBundle = {
  subjectSha256: digest,
  model: 'credit-risk',
  version: 3,
  mode: null,
  candidateVersion: null,
};
const shadow: IssuedBundle = { ...live, mode: 'shadow', candidateVersion: 4 };
const canary: IssuedBundle = { ...live, mode: 'canary', candidateVersion: 4 };
const record = (arm: PredictionArm, modelVersion: number, model = 'credit-risk') => ({
  seq: 9,
  arm,
  model,
  modelVersion,
});

describe('the arms an issued bundle carries', () => {
  it('gives a live bundle its live version, a shadow bundle live and shadow, a canary bundle only the candidate', () => {
    expect([...armsOf(live)]).toEqual([['live', 3]]);
    expect([...armsOf(shadow)]).toEqual([
      ['live', 3],
      ['shadow', 4],
    ]);
    expect([...armsOf(canary)]).toEqual([['candidate', 4]]);
  });

  it('accepts exactly the arm and version pairs a bundle carries', () => {
    const arms: PredictionArm[] = ['live', 'shadow', 'candidate'];
    for (const bundle of [live, shadow, canary])
      for (const arm of arms)
        for (const version of [2, 3, 4, 5]) {
          const carried = armsOf(bundle).get(arm) === version;
          expect([
            bundle.mode,
            arm,
            version,
            armRefusal(bundle, record(arm, version)) === null,
          ]).toEqual([bundle.mode, arm, version, carried]);
        }
  });

  it('names the seq, the arm, the version and what the bundle carries', () => {
    expect(armRefusal(live, record('shadow', 4))).toEqual({
      field: 'arm',
      reason: `seq 9: a shadow record of credit-risk@4, but its live bundle ${digest} carries no shadow arm (only live credit-risk@3)`,
    });
    expect(armRefusal(shadow, record('candidate', 4))).toEqual({
      field: 'arm',
      reason: `seq 9: a candidate record of credit-risk@4, but its shadow bundle ${digest} carries no candidate arm (only live credit-risk@3 and shadow credit-risk@4)`,
    });
    expect(armRefusal(canary, record('live', 3))?.field).toBe('arm');
    expect(armRefusal(shadow, record('shadow', 5))).toEqual({
      field: 'modelVersion',
      reason: `seq 9: a shadow record of credit-risk@5, but the shadow arm of its shadow bundle ${digest} is credit-risk@4`,
    });
    expect(armRefusal(shadow, record('live', 3, 'other-model'))?.field).toBe('model');
  });
});
