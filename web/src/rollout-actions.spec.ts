import { describe, expect, it } from '@jest/globals';
import { offeredActions, type ActionableRollout } from './rollout-actions.js';

const ENGINEER = ['advance', 'pause', 'rollback', 'read'].map((action) => ({
  action,
  subject: 'Rollout',
}));
const COMPLIANCE = [
  { action: 'rollback', subject: 'Rollout' },
  { action: 'read', subject: 'Rollout' },
];
const AUDITOR = [{ action: 'read', subject: 'all' }];

function rollout(patch: Partial<ActionableRollout>): ActionableRollout {
  return {
    status: 'RUNNING',
    candidateVersion: 2,
    previousVersion: 1,
    stages: [
      { kind: 'SHADOW', status: 'PASSED' },
      { kind: 'LIVE', status: 'PENDING' },
    ],
    traffic: { liveVersion: 1 },
    ...patch,
  };
}

describe('offeredActions', () => {
  it('offers each role what roles.yaml allows it on a running rollout', () => {
    expect(offeredActions(ENGINEER, rollout({}))).toEqual(['pause', 'advance', 'rollback']);
    expect(offeredActions(COMPLIANCE, rollout({}))).toEqual(['rollback']);
    expect(offeredActions(AUDITOR, rollout({}))).toEqual([]);
    expect(offeredActions([{ action: 'manage', subject: 'all' }], rollout({}))).toEqual([
      'pause',
      'advance',
      'rollback',
    ]);
  });

  it('offers no pause on a paused rollout, and nothing on a finished one', () => {
    expect(offeredActions(ENGINEER, rollout({ status: 'PAUSED' }))).toEqual([
      'advance',
      'rollback',
    ]);
    expect(offeredActions(ENGINEER, rollout({ status: 'ROLLED_BACK' }))).toEqual([]);
    expect(offeredActions(ENGINEER, rollout({ status: 'FAILED' }))).toEqual([]);
  });

  it('offers a rollback after the go-live only while the candidate is still live', () => {
    const wentLive = {
      status: 'COMPLETED',
      stages: [{ kind: 'LIVE', status: 'PASSED' }],
      traffic: { liveVersion: 2 },
    };
    expect(offeredActions(ENGINEER, rollout(wentLive))).toEqual(['rollback']);
    expect(offeredActions(ENGINEER, rollout({ ...wentLive, traffic: { liveVersion: 3 } }))).toEqual(
      [],
    );
    expect(offeredActions(ENGINEER, rollout({ ...wentLive, previousVersion: null }))).toEqual([]);
  });
});
