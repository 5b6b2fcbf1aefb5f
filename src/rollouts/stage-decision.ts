import type { Verdict } from './criteria-judge.js';
import type { RolloutStage } from './rollout-stages.js';

/**
 * What the controller does with a stage at a tick: roll back on any breached rollback
 * criterion; otherwise pass it once its minimums are met (requests and time), every rollback
 * criterion that applies has been judged on enough data, and every success criterion is met;
 * its time is observed time, so a takeover or a gap in the metrics never counts towards it;
 * otherwise hold, saying what it waits for. A paused rollout still rolls back, never passes.
 */
export type StageDecision =
  | { readonly action: 'rollback'; readonly breached: readonly Verdict[] }
  | { readonly action: 'hold'; readonly waitingFor: readonly string[] }
  | { readonly action: 'pass' };

export interface StageProgress {
  readonly stage: RolloutStage;
  /** How long the stage has been watched (stage-clock.ts), not how long ago it was entered. */
  readonly observedMs: number;
  /** Whether the driver watched the stage since its own previous tick (stage-clock.ts). */
  readonly observing: boolean;
  /** Candidate requests (shadow copies in the shadow stage) since the stage was entered. */
  readonly candidateRequests: number;
  readonly rollback: readonly Verdict[];
  readonly success: readonly Verdict[];
  readonly paused: boolean;
  /** Whether every replica can serve the candidate (blue-green checks it before the switch). */
  readonly candidateReady: boolean;
}

function setting(stage: RolloutStage, name: string): number {
  const v = stage.settings[name];
  return typeof v === 'number' ? v : 0;
}

/** How long a stage must last and how many candidate requests it needs. */
export function stageMinimums(stage: RolloutStage): { seconds: number; requests: number } {
  switch (stage.kind) {
    case 'SHADOW':
      return {
        seconds: setting(stage, 'minDurationSeconds'),
        requests: setting(stage, 'minRequests'),
      };
    case 'CANARY':
      return { seconds: setting(stage, 'bakeSeconds'), requests: setting(stage, 'minRequests') };
    case 'AB_TEST':
      return { seconds: 0, requests: setting(stage, 'minSamples') };
    case 'BLUE_GREEN':
    case 'LIVE':
      return { seconds: 0, requests: 0 };
  }
}

export function decideStage(p: StageProgress): StageDecision {
  const breached = p.rollback.filter((v) => v.status === 'BREACH');
  if (breached.length > 0) return { action: 'rollback', breached };
  const waitingFor: string[] = [];
  if (p.paused) waitingFor.push('the rollout is paused');
  const { seconds, requests } = stageMinimums(p.stage);
  const observed = p.observedMs / 1000;
  if (observed < seconds)
    waitingFor.push(`time: ${Math.floor(observed)} of ${seconds} s observed in the stage`);
  else if (seconds > 0 && !p.observing)
    waitingFor.push('time: a tick of the driver observing the stage with metrics arriving');
  if (p.candidateRequests < requests)
    waitingFor.push(`requests: ${p.candidateRequests} of ${requests} on the candidate`);
  if (p.stage.kind === 'BLUE_GREEN' && !p.candidateReady)
    waitingFor.push('the candidate to be loaded and checked');
  for (const v of p.rollback)
    if (v.status === 'NOT_ENOUGH_DATA' || v.status === 'UNCERTAIN')
      waitingFor.push(`${v.criterion}: ${v.note}`);
  for (const v of p.success)
    if (v.status === 'NOT_ENOUGH_DATA' || v.status === 'NOT_MET')
      waitingFor.push(`success ${v.criterion}: ${v.note}`);
  return waitingFor.length > 0 ? { action: 'hold', waitingFor } : { action: 'pass' };
}
