import type { Principal } from '../auth/principal.js';
import { DomainError } from '../common/errors.js';
import { actorOf } from '../ledger/actor.js';
import type { EventInput } from '../ledger/event-catalogue.js';
import type { LedgerService } from '../ledger/ledger.service.js';

/**
 * Runs a decision and, when it is refused, ledgers the refused attempt before the error goes
 * back to the caller: an auditor wants to see who tried, not only who succeeded. The decision's
 * own transaction has rolled back by then, so the refusal is an event of its own. A request
 * that does not exist is not a decision anyone could take, and is not recorded.
 */
export async function recordingRefusals<T>(
  ledger: LedgerService,
  refused: (error: DomainError) => EventInput,
  decide: () => Promise<T>,
): Promise<T> {
  try {
    return await decide();
  } catch (error) {
    if (error instanceof DomainError && error.code !== 'NOT_FOUND')
      await ledger.record(refused(error));
    throw error;
  }
}

/** The refused decisions on a promotion request that carry nothing but why. */
export type PromotionRefusal =
  'promotion.rejection.refused' | 'promotion.withdrawal.refused' | 'rollout.start.refused';

/** A refused-attempt event about a promotion (or the start of its rollout). */
export function refusalOf(
  type: PromotionRefusal,
  promotionId: string,
  principal: Principal,
  error: DomainError,
  policySha256: string,
): EventInput<PromotionRefusal> {
  return {
    type,
    subject: `promotion:${promotionId}`,
    actor: actorOf(principal),
    payload: { promotionId, code: error.code, reason: error.message, policySha256 },
  };
}

/** A refused approval: also the role it was given in and the request digest the approver saw. */
export function approvalRefusalOf(
  promotionId: string,
  principal: Principal,
  error: DomainError,
  attempt: { readonly role: string; readonly digestSeen: string },
  policySha256: string,
): EventInput<'promotion.approval.refused'> {
  return {
    type: 'promotion.approval.refused',
    subject: `promotion:${promotionId}`,
    actor: actorOf(principal),
    payload: {
      promotionId,
      role: attempt.role,
      digestSeen: attempt.digestSeen,
      code: error.code,
      reason: error.message,
      policySha256,
    },
  };
}
