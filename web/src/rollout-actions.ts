/**
 * Which actions on a rollout the console offers: those the person's roles allow (the `me`
 * query's abilities, from policies/roles.yaml) and the rollout's state admits. The service
 * decides again and refuses anything else; this only keeps a button that cannot work away.
 */

export type RolloutAction = 'pause' | 'advance' | 'rollback';

import { allows, type Permission } from './abilities.js';

export interface ActionableRollout {
  readonly status: string;
  readonly candidateVersion: number;
  readonly previousVersion: number | null;
  readonly stages: readonly { readonly kind: string; readonly status: string }[];
  readonly traffic: { readonly liveVersion: number | null };
}

export function mayDo(abilities: readonly Permission[], action: RolloutAction): boolean {
  return allows(abilities, action, 'Rollout');
}

/** After its go-live, a rollout rolls back while its candidate is live and the previous version is the standby. */
function rollsBackAfterGoLive(rollout: ActionableRollout): boolean {
  return (
    rollout.status === 'COMPLETED' &&
    rollout.previousVersion !== null &&
    rollout.traffic.liveVersion === rollout.candidateVersion &&
    rollout.stages.some((stage) => stage.kind === 'LIVE' && stage.status === 'PASSED')
  );
}

export function offeredActions(
  abilities: readonly Permission[],
  rollout: ActionableRollout,
): RolloutAction[] {
  const underWay = rollout.status === 'RUNNING' || rollout.status === 'PAUSED';
  const offered: RolloutAction[] = [];
  if (rollout.status === 'RUNNING' && mayDo(abilities, 'pause')) offered.push('pause');
  if (underWay && mayDo(abilities, 'advance')) offered.push('advance');
  if ((underWay || rollsBackAfterGoLive(rollout)) && mayDo(abilities, 'rollback'))
    offered.push('rollback');
  return offered;
}
