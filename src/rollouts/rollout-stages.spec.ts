import { describe, expect, it } from '@jest/globals';
import { passStage, plannedStages } from './rollout-stages.js';

describe('rollout stages', () => {
  it('makes INITIAL one LIVE stage', () => {
    expect(plannedStages('INITIAL', {})).toEqual([
      {
        name: 'live',
        kind: 'LIVE',
        settings: {},
        status: 'PENDING',
        enteredAt: null,
        passedAt: null,
      },
    ]);
  });

  it('expands shadow then canary into a shadow stage, one stage per step, then LIVE', () => {
    const stages = plannedStages('SHADOW_THEN_CANARY', {
      shadow: { sampleRate: 0.5, minRequests: 1000, minDurationSeconds: 86_400 },
      canary: { steps: [5, 25, 50], minRequestsPerStep: 500, bakeSeconds: 3600 },
    });
    expect(stages.map((s) => s.name)).toEqual([
      'shadow',
      'canary-5',
      'canary-25',
      'canary-50',
      'live',
    ]);
    expect(stages[2]?.settings).toEqual({ percent: 25, minRequests: 500, bakeSeconds: 3600 });
    expect(stages[0]?.settings).toEqual({
      sampleRate: 0.5,
      minRequests: 1000,
      minDurationSeconds: 86_400,
    });
  });

  it('gives blue-green a full switch and an A/B test its settings', () => {
    expect(plannedStages('BLUE_GREEN', {}).map((s) => [s.kind, s.settings])).toEqual([
      ['BLUE_GREEN', { percent: 100 }],
      ['LIVE', {}],
    ]);
    const ab = plannedStages('AB_TEST', {
      abTest: { splitPercent: 50, outcome: 'AUC', minSamples: 1000, significanceLevel: 0.05 },
    });
    expect(ab.map((s) => s.kind)).toEqual(['AB_TEST']);
  });

  it('marks a stage passed, keeping when it was entered', () => {
    const at = '2026-03-01T12:00:00.000Z';
    const [live] = passStage(plannedStages('INITIAL', {}), 0, at);
    expect(live).toMatchObject({ status: 'PASSED', enteredAt: at, passedAt: at });
  });
});
