import { describe, expect, it } from '@jest/globals';
import { decideAbTest } from './ab-test.js';
import { emptyArmWindow, labelledFigures, type ArmWindow } from '../arm-metrics/arm-window.js';
import {
  judgeAll,
  judgeRollback,
  lowestSelectionRatio,
  type Measurements,
} from './criteria-judge.js';
import { latencyBucket } from '../arm-metrics/latency-histogram.js';
import { decideStage } from './stage-decision.js';
import type { RolloutStage } from './rollout-stages.js';

const window = { minRequests: 100, seconds: 60 };
const ctx = { stageKind: 'CANARY' as const, alpha: 0.01, minGroupSize: 30 };

function arm(requests: number, errors: number, latencyMs = 2, extra: Partial<ArmWindow> = {}) {
  const w = emptyArmWindow();
  w.requests = requests;
  w.errors = errors;
  w.latency[latencyBucket(latencyMs)] = requests;
  return { ...w, ...extra };
}

function measured(candidate: ArmWindow, live: ArmWindow, more: Partial<Measurements> = {}) {
  return {
    candidate,
    live,
    candidateLabels: null,
    liveLabels: null,
    psi: null,
    psiCount: 0,
    ...more,
  } satisfies Measurements;
}

describe('rollback criteria', () => {
  it('an erroring candidate breaches maxErrorRate with the test in the evidence', () => {
    const v = judgeRollback(
      'maxErrorRate',
      0.01,
      window,
      measured(arm(200, 200), arm(800, 0)),
      ctx,
    );
    expect(v.status).toBe('BREACH');
    expect(v.measured).toBe(1);
    expect(v.test?.test).toBe('two-proportion z');
    expect(v.test?.n1).toBe(200);
    expect(v.test?.n2).toBe(800);
    expect(v.test!.pValue).toBeLessThan(1e-10);
  });

  it('a rate just past the threshold, no worse than live, is noise: no breach', () => {
    const v = judgeRollback('maxErrorRate', 0.01, window, measured(arm(200, 3), arm(800, 10)), ctx);
    expect(v.measured).toBeCloseTo(0.015);
    expect(v.status).toBe('PASS');
    expect(v.note).toMatch(/not significantly/);
  });

  it('too few requests is not judged either way', () => {
    const v = judgeRollback('maxErrorRate', 0.01, window, measured(arm(50, 50), arm(800, 0)), ctx);
    expect(v.status).toBe('NOT_ENOUGH_DATA');
  });

  it('a slow candidate breaches maxP99LatencyMs by Mann-Whitney U against live', () => {
    const v = judgeRollback(
      'maxP99LatencyMs',
      20,
      window,
      measured(arm(150, 0, 80), arm(900, 0, 2)),
      ctx,
    );
    expect(v.status).toBe('BREACH');
    expect(v.test?.test).toBe('Mann-Whitney U');
    expect(v.measured).toBeGreaterThanOrEqual(80);
  });

  it('agreement applies in the shadow stage only', () => {
    const low = arm(200, 0, 2, { compared: 200, agreed: 20 });
    const shadow = judgeRollback('minAgreementWithLive', 0.9, window, measured(low, arm(200, 0)), {
      ...ctx,
      stageKind: 'SHADOW',
    });
    expect(shadow.status).toBe('BREACH');
    expect(shadow.measured).toBeCloseTo(0.1);
    expect(
      judgeRollback('minAgreementWithLive', 0.9, window, measured(low, arm(200, 0)), ctx).status,
    ).toBe('NOT_APPLICABLE');
  });

  it('an unfair candidate breaches minDisparateImpact; small groups are not compared', () => {
    const unfair = arm(400, 0, 2, {
      rows: 400,
      groups: { sex: { male: [200, 140], female: [200, 60], other: [5, 0] } },
    });
    expect(lowestSelectionRatio(unfair, 30)).toMatchObject({
      attribute: 'sex',
      worst: { group: 'female' },
      best: { group: 'male' },
    });
    const v = judgeRollback('minDisparateImpact', 0.8, window, measured(unfair, arm(400, 0)), ctx);
    expect(v.status).toBe('BREACH');
    expect(v.measured).toBeCloseTo(60 / 140);
    expect(v.test?.test).toBe('two-proportion ratio z');
    // A real but small gap (ratio 0.83 in truth, 0.78 seen on 100 rows) is not a breach.
    const borderline = arm(200, 0, 2, {
      rows: 200,
      groups: { sex: { male: [100, 82], female: [100, 64] } },
    });
    const b = judgeRollback(
      'minDisparateImpact',
      0.8,
      window,
      measured(borderline, arm(400, 0)),
      ctx,
    );
    expect(b.measured).toBeCloseTo(64 / 82);
    expect(b.status).toBe('UNCERTAIN');
    expect(b.note).toMatch(/waiting for more data/);
    const none = judgeRollback(
      'minDisparateImpact',
      0.8,
      window,
      measured(arm(400, 0), arm(400, 0)),
      ctx,
    );
    expect(none.status).toBe('NOT_ENOUGH_DATA');
    expect(none.note).toMatch(/parameters.attributes/);
  });

  it('PSI and labelled accuracy', () => {
    const psi = judgeRollback(
      'maxPsiDrift',
      0.2,
      window,
      measured(arm(200, 0), arm(200, 0), { psi: 0.5, psiCount: 200 }),
      ctx,
    );
    expect(psi.status).toBe('BREACH');
    const pairs = Array.from({ length: 200 }, (_, i) => ({
      score: i % 2 ? 0.9 : 0.1,
      label: i % 4 < 2 ? 1 : 0,
    }));
    const labels = labelledFigures(pairs, 0.5);
    expect(labels.accuracy).toBeCloseTo(0.5);
    const acc = judgeRollback(
      'minAccuracy',
      0.8,
      window,
      measured(arm(200, 0), arm(200, 0), { candidateLabels: labels }),
      ctx,
    );
    expect(acc.status).toBe('BREACH');
    expect(acc.test?.test).toBe('one-proportion z');
  });

  it('labelled figures: AUC with ties equals the rank formula', () => {
    const f = labelledFigures(
      [
        { score: 0.1, label: 0 },
        { score: 0.4, label: 0 },
        { score: 0.35, label: 1 },
        { score: 0.8, label: 1 },
        { score: 0.4, label: 1 },
      ],
      0.5,
    );
    // sklearn.metrics.roc_auc_score([0,0,1,1,1],[0.1,0.4,0.35,0.8,0.4]) = 0.75
    expect(f.auc).toBeCloseTo(0.75, 12);
    expect(f.accuracy).toBeCloseTo(3 / 5);
  });

  it('judgeAll keeps the vocabulary order and each criterion its own window', () => {
    const seen: number[] = [];
    const verdicts = judgeAll(
      'rollback',
      {
        minDisparateImpact: { value: 0.8, window: { minRequests: 100, seconds: 600 } },
        maxErrorRate: { value: 0.01, window },
      },
      (w) => {
        seen.push(w.seconds);
        return measured(arm(200, 0), arm(200, 0));
      },
      ctx,
    );
    expect(verdicts.map((v) => v.criterion)).toEqual(['maxErrorRate', 'minDisparateImpact']);
    expect(seen).toEqual([60, 600]);
  });
});

describe('stage decisions', () => {
  const canary: RolloutStage = {
    name: 'canary-5',
    kind: 'CANARY',
    settings: { percent: 5, minRequests: 100, bakeSeconds: 30 },
    status: 'IN_PROGRESS',
    enteredAt: '2026-11-29T10:00:00.000Z',
    passedAt: null,
  };
  const pass = judgeRollback('maxErrorRate', 0.01, window, measured(arm(200, 0), arm(800, 0)), ctx);
  const breach = judgeRollback(
    'maxErrorRate',
    0.01,
    window,
    measured(arm(200, 200), arm(800, 0)),
    ctx,
  );
  const base = {
    stage: canary,
    candidateRequests: 200,
    rollback: [pass],
    success: [],
    paused: false,
    candidateReady: true,
  };

  it('holds until the observed bake time and requests are met, then passes', () => {
    const early = decideStage({ ...base, observedMs: 10_400, observing: true });
    expect(early).toEqual({
      action: 'hold',
      waitingFor: ['time: 10 of 30 s observed in the stage'],
    });
    expect(decideStage({ ...base, observedMs: 30_000, observing: true })).toEqual({
      action: 'pass',
    });
  });

  it('does not pass on a tick that follows a break in observation, whatever was observed before', () => {
    expect(decideStage({ ...base, observedMs: 3_600_000, observing: false })).toEqual({
      action: 'hold',
      waitingFor: ['time: a tick of the driver observing the stage with metrics arriving'],
    });
  });

  it('rolls back on a breach, paused or not', () => {
    const d = decideStage({
      ...base,
      rollback: [breach],
      paused: true,
      observedMs: 0,
      observing: false,
    });
    expect(d.action).toBe('rollback');
  });

  it('a paused stage never passes', () => {
    const d = decideStage({ ...base, paused: true, observedMs: 3_600_000, observing: true });
    expect(d).toEqual({ action: 'hold', waitingFor: ['the rollout is paused'] });
  });
});

describe('A/B tests', () => {
  const plan = {
    splitPercent: 50,
    outcome: 'ERROR_RATE' as const,
    minSamples: 100,
    significanceLevel: 0.05,
  };
  it('waits for the minimum samples on both arms', () => {
    expect(
      decideAbTest(plan, {
        candidate: arm(50, 0),
        live: arm(500, 0),
        candidateLabels: null,
        liveLabels: null,
      }).action,
    ).toBe('hold');
  });
  it('names a winner only when the difference is significant', () => {
    const d = decideAbTest(plan, {
      candidate: arm(500, 5),
      live: arm(500, 40),
      candidateLabels: null,
      liveLabels: null,
    });
    expect(d.action === 'conclude' && d.result.winner).toBe('candidate');
    const tie = decideAbTest(plan, {
      candidate: arm(500, 10),
      live: arm(500, 11),
      candidateLabels: null,
      liveLabels: null,
    });
    expect(tie.action === 'conclude' && tie.result.winner).toBe('none');
  });
});
