import { ConflictError } from '../common/errors.js';
import type { LedgerEventType } from '../ledger/event-catalogue.js';
import type { PromotionStatus } from './vocabulary.js';

/**
 * A promotion request's life, as one table: each change of status, what causes it, who may
 * cause it and the ledger event that records it. Every write of a request's status goes
 * through `transition`, so a status can only move along a row of this table.
 */

export const PROMOTION_EVENTS = [
  'approve',
  'last-approval',
  'rejudge-approved',
  'rejudge-pending',
  'reject',
  'withdraw',
  'start-initial',
  'start-staged',
  'complete-rollout',
  'roll-back',
] as const;
export type PromotionEvent = (typeof PROMOTION_EVENTS)[number];

export interface PromotionCause {
  /** Who may cause it: the permission in policies/roles.yaml, or the part of the system. */
  readonly by: string;
  /** The ledger event recorded with the change. */
  readonly records: LedgerEventType;
}

export const PROMOTION_CAUSES: { readonly [E in PromotionEvent]: PromotionCause } = {
  approve: {
    by: '`approve PromotionRequest`, in a required role still missing after it',
    records: 'promotion.approval.recorded',
  },
  'last-approval': {
    by: '`approve PromotionRequest`, in the last required role missing',
    records: 'promotion.approved',
  },
  'rejudge-approved': {
    by: '`system:policy`: the policy in force requires no role the approvals lack',
    records: 'promotion.repolicied',
  },
  'rejudge-pending': {
    by: '`system:policy`: the policy in force requires a role no approval fills',
    records: 'promotion.repolicied',
  },
  reject: { by: '`reject PromotionRequest`', records: 'promotion.rejected' },
  withdraw: {
    by: '`withdraw PromotionRequest`, the requester only',
    records: 'promotion.withdrawn',
  },
  'start-initial': {
    by: '`start Rollout`, all gates passing (strategy INITIAL)',
    records: 'rollout.completed',
  },
  'start-staged': {
    by: '`start Rollout`, all gates passing (any other strategy)',
    records: 'rollout.started',
  },
  'complete-rollout': {
    by: '`system:rollout-controller`, or `advance Rollout` past the last stage',
    records: 'rollout.completed',
  },
  'roll-back': {
    by: '`system:rollout-controller` on a breached criterion, or `rollback Rollout`',
    records: 'rollout.rolled_back',
  },
};

/** Each allowed change: from a status, on an event, to a status. */
export const PROMOTION_TRANSITIONS: readonly {
  readonly from: PromotionStatus;
  readonly event: PromotionEvent;
  readonly to: PromotionStatus;
}[] = [
  { from: 'PENDING', event: 'approve', to: 'PENDING' },
  { from: 'PENDING', event: 'last-approval', to: 'APPROVED' },
  { from: 'PENDING', event: 'rejudge-approved', to: 'APPROVED' },
  { from: 'PENDING', event: 'rejudge-pending', to: 'PENDING' },
  { from: 'PENDING', event: 'reject', to: 'REJECTED' },
  { from: 'PENDING', event: 'withdraw', to: 'WITHDRAWN' },
  { from: 'APPROVED', event: 'rejudge-approved', to: 'APPROVED' },
  { from: 'APPROVED', event: 'rejudge-pending', to: 'PENDING' },
  { from: 'APPROVED', event: 'reject', to: 'REJECTED' },
  { from: 'APPROVED', event: 'withdraw', to: 'WITHDRAWN' },
  { from: 'APPROVED', event: 'start-initial', to: 'COMPLETED' },
  { from: 'APPROVED', event: 'start-staged', to: 'ROLLING_OUT' },
  { from: 'ROLLING_OUT', event: 'complete-rollout', to: 'COMPLETED' },
  { from: 'ROLLING_OUT', event: 'roll-back', to: 'ROLLED_BACK' },
  // After the go-live, while the previous version is still the endpoint's standby.
  { from: 'COMPLETED', event: 'roll-back', to: 'ROLLED_BACK' },
];

/** The message of a refused event, as the client reads it. */
function refusal(from: PromotionStatus, event: PromotionEvent): string {
  switch (event) {
    case 'approve':
    case 'last-approval':
      return from === 'APPROVED'
        ? 'the request already has every approval it needs'
        : `the request is ${from}: it can no longer be approved`;
    case 'reject':
      return `the request is ${from}: it can no longer be rejected`;
    case 'withdraw':
      return `the request is ${from}: it can no longer be withdrawn`;
    case 'start-initial':
    case 'start-staged':
      return `the request is ${from}: there is nothing to start`;
    case 'rejudge-approved':
    case 'rejudge-pending':
      return `the request is ${from}: it is no longer judged under a promotion policy`;
    case 'complete-rollout':
      return `the request is ${from}: it has no rollout to complete`;
    case 'roll-back':
      return `the request is ${from}: it has no rollout to roll back`;
  }
}

/** The status `event` moves a request in status `from` to; CONFLICT if it may not happen. */
export function transition(from: PromotionStatus, event: PromotionEvent): PromotionStatus {
  const allowed = PROMOTION_TRANSITIONS.find((t) => t.from === from && t.event === event);
  if (!allowed) throw new ConflictError(refusal(from, event), { status: from });
  return allowed.to;
}
