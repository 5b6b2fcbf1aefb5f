import { describe, expect, it } from '@jest/globals';
import { eventInWords, stageTimeline, type HistoryEvent } from './rollout-timeline.js';

const STAGES = [
  { name: 'shadow', kind: 'SHADOW', status: 'PASSED', enteredAt: 'e0', passedAt: 'p0' },
  { name: 'canary-25', kind: 'CANARY', status: 'IN_PROGRESS', enteredAt: 'e1', passedAt: null },
  { name: 'live', kind: 'LIVE', status: 'PENDING', enteredAt: null, passedAt: null },
];

function event(
  seq: number,
  type: string,
  sub: string,
  payload: Record<string, unknown>,
): HistoryEvent {
  return { seq, ts: `2026-12-07T10:00:0${String(seq)}.000Z`, type, actor: { sub }, payload };
}

const HISTORY = [
  event(1, 'rollout.started', 'erin', {}),
  event(2, 'rollout.stage.entered', 'erin', { stage: 'shadow', index: 0, manual: true }),
  event(3, 'rollout.stage.passed', 'erin', {
    stage: 'shadow',
    index: 0,
    manual: true,
    reason: 'Validated offline already.',
  }),
  event(4, 'rollout.stage.entered', 'erin', { stage: 'canary-25', index: 1, manual: true }),
];

describe('stageTimeline', () => {
  it('marks done, current and pending stages, with the ledger’s times, people and reasons', () => {
    const timeline = stageTimeline({ status: 'RUNNING', stages: STAGES }, HISTORY);
    expect(timeline.map((s) => [s.name, s.state])).toEqual([
      ['shadow', 'done'],
      ['canary-25', 'current'],
      ['live', 'pending'],
    ]);
    expect(timeline[0]).toMatchObject({
      enteredAt: '2026-12-07T10:00:02.000Z',
      passedAt: '2026-12-07T10:00:03.000Z',
      passedBy: 'erin',
      manual: true,
      reason: 'Validated offline already.',
    });
    expect(timeline[1]).toMatchObject({ enteredAt: '2026-12-07T10:00:04.000Z', passedAt: null });
    expect(timeline[2]).toMatchObject({ enteredAt: null, passedBy: null, reason: null });
  });

  it('shows the stage in progress of a paused rollout as paused, and a rolled-back one as failed', () => {
    expect(stageTimeline({ status: 'PAUSED', stages: STAGES }, HISTORY)[1]?.state).toBe('paused');
    const failed = STAGES.map((s, i) => (i === 1 ? { ...s, status: 'FAILED' } : s));
    expect(stageTimeline({ status: 'ROLLED_BACK', stages: failed }, HISTORY)[1]?.state).toBe(
      'failed',
    );
  });

  it('takes the live stage’s pass from the rollout’s completion', () => {
    const done = STAGES.map((s) => ({ ...s, status: 'PASSED' }));
    const history = [
      ...HISTORY,
      event(5, 'rollout.stage.entered', 'system:rollout-controller', { stage: 'live', index: 2 }),
      event(6, 'rollout.completed', 'system:rollout-controller', { liveVersion: 2 }),
    ];
    expect(stageTimeline({ status: 'COMPLETED', stages: done }, history)[2]).toMatchObject({
      state: 'done',
      enteredAt: '2026-12-07T10:00:05.000Z',
      passedAt: '2026-12-07T10:00:06.000Z',
      passedBy: 'system:rollout-controller',
      manual: false,
    });
  });

  it('falls back on the stage’s own times when the ledger has none for it', () => {
    expect(stageTimeline({ status: 'RUNNING', stages: STAGES }, [])[0]).toMatchObject({
      enteredAt: 'e0',
      passedAt: 'p0',
      passedBy: null,
    });
  });
});

describe('eventInWords', () => {
  it('names the stage, a person’s hand, the criterion and the reason', () => {
    expect(eventInWords(HISTORY[2]!)).toBe(
      'Passed stage shadow, by hand, “Validated offline already.”',
    );
    expect(
      eventInWords(
        event(7, 'rollout.rolled_back', 'system:rollout-controller', {
          stage: 'canary-25',
          manual: false,
          criterion: 'maxErrorRate',
          reason: 'maxErrorRate breached',
        }),
      ),
    ).toBe('Rolled back at canary-25, criterion maxErrorRate, “maxErrorRate breached”');
    expect(eventInWords(event(8, 'rollout.custom', 'x', {}))).toBe('rollout.custom');
  });
});
