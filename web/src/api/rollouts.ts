import {
  AdvanceRolloutDocument,
  PauseRolloutDocument,
  RecentRolloutsDocument,
  RollbackRolloutDocument,
  RolloutListDocument,
  RolloutPermissionsDocument,
  RolloutWatchDocument,
  type RolloutPermissionsQuery,
  type RolloutSummaryFieldsFragment,
  type RolloutWatchFieldsFragment,
} from '../../../src/client/generated/graphql.js';
import type { RolloutAction } from '../rollout-actions.js';
import { runOperation } from './graphql-client.js';
import { ProblemError } from './problem.js';

export type RolloutSummary = RolloutSummaryFieldsFragment;
export type WatchedRollout = RolloutWatchFieldsFragment;
export type RolloutAbility = RolloutPermissionsQuery['me']['abilities'][number];

export interface RolloutOverview {
  /** Running and paused rollouts, newest first. */
  readonly underWay: readonly RolloutSummary[];
  /** More are under way than one read returns. */
  readonly moreUnderWay: boolean;
  /** The first page of every rollout, newest first. */
  readonly recent: readonly RolloutSummary[];
  readonly nextCursor: string | null;
}

/** The rollouts under way, then the first page of all of them, newest first. */
export async function rolloutOverview(csrfToken: string): Promise<RolloutOverview> {
  const data = await runOperation(RolloutListDocument, {}, csrfToken);
  const underWay = [...data.running.items, ...data.paused.items].sort((a, b) =>
    b.startedAt.localeCompare(a.startedAt),
  );
  return {
    underWay,
    moreUnderWay: data.running.nextCursor != null || data.paused.nextCursor != null,
    recent: data.recent.items,
    nextCursor: data.recent.nextCursor ?? null,
  };
}

/** The next page of all rollouts after `cursor`. */
export async function olderRollouts(
  csrfToken: string,
  cursor: string,
): Promise<{ items: readonly RolloutSummary[]; nextCursor: string | null }> {
  const data = await runOperation(RecentRolloutsDocument, { cursor }, csrfToken);
  return { items: data.rollouts.items, nextCursor: data.rollouts.nextCursor ?? null };
}

/** One rollout as it stands now: stages, traffic, the stage in progress judged, its ledger. */
export async function watchRollout(csrfToken: string, id: string): Promise<WatchedRollout> {
  const data = await runOperation(RolloutWatchDocument, { id }, csrfToken);
  if (!data.rollout) {
    throw new ProblemError({ code: 'NOT_FOUND', message: `There is no rollout ${id}.` });
  }
  return data.rollout;
}

/** What the signed-in person's roles allow, and the policies' texts (for the reason's rules). */
export async function rolloutPermissions(csrfToken: string): Promise<RolloutPermissionsQuery> {
  return runOperation(RolloutPermissionsDocument, {}, csrfToken);
}

/** Carries out a person's action with their reason; the answer is the rollout after it. */
export async function actOnRollout(
  csrfToken: string,
  action: RolloutAction,
  id: string,
  reason: string,
): Promise<WatchedRollout> {
  const variables = { id, reason };
  switch (action) {
    case 'pause':
      return (await runOperation(PauseRolloutDocument, variables, csrfToken)).pauseRollout;
    case 'advance':
      return (await runOperation(AdvanceRolloutDocument, variables, csrfToken)).advanceRollout;
    case 'rollback':
      return (await runOperation(RollbackRolloutDocument, variables, csrfToken)).rollbackRollout;
  }
}
