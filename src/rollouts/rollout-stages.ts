import type { RolloutPlan } from '../promotions/rollout-plan.js';
import type { Strategy } from '../promotions/vocabulary.js';

/**
 * A rollout is its plan expanded into stages, in order; the last is always LIVE, the moment
 * the candidate becomes the live version. The rollout row keeps them with their progress, so
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
  if (plan.abTest && strategy === 'AB_TEST')
    stages.push(stage('ab-test', 'AB_TEST', { ...plan.abTest }));
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
