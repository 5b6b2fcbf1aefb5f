import type { Principal } from '../auth/principal.js';
import { DomainError } from '../common/errors.js';
import { actorOf } from '../ledger/actor.js';
import type { EventInput, LedgerService } from '../ledger/ledger.service.js';

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

/** A refused-attempt event about a promotion (or its rollout). */
export function refusalOf(
  type: string,
  promotionId: string,
  principal: Principal,
  error: DomainError,
  attempt: Readonly<Record<string, string | null>> = {},
  policySha256: string,
): EventInput {
  return {
    type,
    subject: `promotion:${promotionId}`,
    actor: actorOf(principal),
    payload: {
      promotionId,
      ...attempt,
      code: error.code,
      reason: error.message,
      policySha256,
    },
  };
}
