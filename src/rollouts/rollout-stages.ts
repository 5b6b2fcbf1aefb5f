import type { RolloutPlan } from '../promotions/rollout-plan.js';
import type { Strategy } from '../policy/promotion-vocabulary.js';

/**
 * A rollout is its plan expanded into stages, in order; the last is LIVE, the moment the
 * candidate becomes the live version (except for an A/B test, which only measures). The rollout row keeps them with their progress, so
 * the engine resumes after a restart at the stage it was in.
 */

export const STAGE_KINDS = ['SHADOW', 'CANARY', 'BLUE_GREEN', 'AB_TEST', 'LIVE'] as const;
export type StageKind = (typeof STAGE_KINDS)[number];

export const STAGE_STATUSES = ['PENDING', 'IN_PROGRESS', 'PASSED', 'FAILED'] as const;
export type StageStatus = (typeof STAGE_STATUSES)[number];

export interface RolloutStage {
  readonly name: string;
  readonly kind: StageKind;
  /** What the stage holds to: sample rate, traffic percent, minimum requests, bake time. */
  readonly settings: Readonly<Record<string, number | string>>;
  readonly status: StageStatus;
  readonly enteredAt: string | null;
  readonly passedAt: string | null;
}

function stage(
  name: string,
  kind: StageKind,
  settings: RolloutStage['settings'] = {},
): RolloutStage {
  return { name, kind, settings, status: 'PENDING', enteredAt: null, passedAt: null };
}

export function plannedStages(strategy: Strategy, plan: RolloutPlan): RolloutStage[] {
  const stages: RolloutStage[] = [];
  if (plan.shadow && (strategy === 'SHADOW' || strategy === 'SHADOW_THEN_CANARY'))
    stages.push(stage('shadow', 'SHADOW', { ...plan.shadow }));
  if (plan.canary && (strategy === 'CANARY' || strategy === 'SHADOW_THEN_CANARY')) {
    const { minRequestsPerStep, bakeSeconds } = plan.canary;
    for (const percent of plan.canary.steps)
      stages.push(
        stage(`canary-${percent}`, 'CANARY', {
          percent,
          minRequests: minRequestsPerStep,
          bakeSeconds,
        }),
      );
  }
  if (strategy === 'BLUE_GREEN') stages.push(stage('switch', 'BLUE_GREEN', { percent: 100 }));
  // An A/B test ends with its result recorded and traffic back on live: a winning
  // candidate goes live only through a promotion of its own.
  if (plan.abTest && strategy === 'AB_TEST')
    return [...stages, stage('ab-test', 'AB_TEST', { ...plan.abTest })];
  stages.push(stage('live', 'LIVE'));
  return stages;
}

/** The stage list with stage `index` entered and passed at `at` (ISO 8601). */
export function passStage(
  stages: readonly RolloutStage[],
  index: number,
  at: string,
): RolloutStage[] {
  return stages.map((s, i) =>
    i === index ? { ...s, status: 'PASSED', enteredAt: s.enteredAt ?? at, passedAt: at } : s,
  );
}

/** The stage list with stage `index` in progress from `at`. */
export function enterStage(
  stages: readonly RolloutStage[],
  index: number,
  at: string,
): RolloutStage[] {
  return stages.map((s, i) =>
    i === index ? { ...s, status: 'IN_PROGRESS', enteredAt: at, passedAt: null } : s,
  );
}

/** The stage list with stage `index` failed (rolled back) at `at`. */
export function failStage(
  stages: readonly RolloutStage[],
  index: number,
  at: string,
): RolloutStage[] {
  return stages.map((s, i) =>
    i === index ? { ...s, status: 'FAILED', enteredAt: s.enteredAt ?? at, passedAt: null } : s,
  );
}

/** An endpoint's traffic while a stage is in progress (basis points, DeploymentService). */
export interface StageTraffic {
  readonly liveVersion?: number;
  readonly candidateVersion: number | null;
  readonly standbyVersion?: number | null;
  readonly mode: 'NONE' | 'SHADOW' | 'CANARY' | 'AB_TEST';
  readonly candidateWeight: number;
  readonly shadowSample?: number;
}

/**
 * What a stage does to traffic: shadow mirrors a sample to the candidate, which answers no
 * one; a canary step or an A/B test gives it a share of requests by routing key; the
 * blue-green stage loads it on every replica without traffic; LIVE makes it the live version
 * and keeps the previous one loaded as standby.
 */
export function stageTraffic(
  stage: RolloutStage,
  candidate: number,
  previous: number | null,
): StageTraffic {
  const num = (name: string) => {
    const v = stage.settings[name];
    return typeof v === 'number' ? v : 0;
  };
  switch (stage.kind) {
    case 'SHADOW':
      return {
        candidateVersion: candidate,
        mode: 'SHADOW',
        candidateWeight: 0,
        shadowSample: Math.round(num('sampleRate') * 10_000),
      };
    case 'CANARY':
      return { candidateVersion: candidate, mode: 'CANARY', candidateWeight: num('percent') * 100 };
    case 'AB_TEST':
      return {
        candidateVersion: candidate,
        mode: 'AB_TEST',
        candidateWeight: num('splitPercent') * 100,
      };
    case 'BLUE_GREEN':
      return { candidateVersion: candidate, mode: 'NONE', candidateWeight: 0 };
    case 'LIVE':
      return {
        liveVersion: candidate,
        candidateVersion: null,
        standbyVersion: previous,
        mode: 'NONE',
        candidateWeight: 0,
      };
  }
}
