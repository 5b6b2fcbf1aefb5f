import { beforeAll, describe, expect, it } from '@jest/globals';
import type { JsonObject, RolloutSection, TimelineEntry } from './report-document.js';
import { rolloutChart } from './rollout-chart.js';
import { syntheticReport } from '../../test/support/synthetic-report.js';

const at = (seq: number, type: string, payload: JsonObject): TimelineEntry => ({
  seq,
  ts: new Date(Date.parse('2026-11-29T08:00:00.000Z') + seq * 1000).toISOString(),
  type,
  actor: 'system:rollout-controller',
  payload,
});

describe('rolloutChart', () => {
  let synthetic: RolloutSection;

  beforeAll(async () => {
    synthetic = (await syntheticReport()).file.report.rollouts[0]!;
  });

  it('reads basis points as percent, and the verdicts of the evidence as metric points', () => {
    const chart = rolloutChart(synthetic);
    expect(chart.stages.map((s) => s.label)).toEqual(['shadow', 'canary-5', 'canary-25']);
    expect(Math.max(...chart.mirrored.map((p) => p.value))).toBe(100);
    expect(chart.traffic.map((p) => p.value)).toEqual(expect.arrayContaining([5, 25]));
    expect(chart.traffic.at(-1)?.value).toBe(0);
    const errors = chart.metrics.find((m) => m.name === 'maxErrorRate')!;
    expect(errors.threshold).toBe(0.01);
    expect(errors.points.map((p) => [p.label, p.value, p.live, p.status, p.passed])).toEqual([
      ['shadow', 0.004, 0.0025, 'PASS', true],
      ['canary-5', 0.006, 0.0025, 'PASS', true],
      ['canary-25', 0.021, 0.0025, 'BREACH', false],
    ]);
    expect(chart.rollbacks.map((r) => r.label)).toEqual(['rolled back: maxErrorRate']);
  });

  it('draws the live stage at 100 % although it records weight 0', () => {
    const chart = rolloutChart({
      id: 'r',
      promotionId: 'p',
      endpoint: 'credit',
      model: 'credit-risk',
      version: 2,
      previousVersion: 1,
      strategy: 'CANARY',
      status: 'COMPLETED',
      startedSeq: 1,
      timeline: [
        at(1, 'rollout.started', {}),
        at(2, 'rollout.stage.entered', {
          stage: 'canary-50',
          kind: 'CANARY',
          weightBasisPoints: 5000,
          sampleBasisPoints: 0,
        }),
        at(4, 'rollout.stage.entered', {
          stage: 'live',
          kind: 'LIVE',
          weightBasisPoints: 0,
          sampleBasisPoints: 0,
        }),
        at(5, 'rollout.completed', { liveVersion: 2 }),
      ],
      traffic: [
        at(3, 'deployment.live.changed', {
          to: {
            liveVersion: 2,
            candidateVersion: null,
            mode: 'NONE',
            candidateWeight: 0,
            shadowSample: 10000,
          },
        }),
      ],
    });
    expect(chart.traffic.map((p) => p.value)).toEqual([0, 50, 100, 100]);
    // The sample rate the endpoint keeps after shadow mirrors nothing outside SHADOW.
    expect(chart.mirrored.every((p) => p.value === 0)).toBe(true);
  });
});
