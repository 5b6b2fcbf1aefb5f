import type { Actor, EventInput } from '../ledger/event-catalogue.js';

/**
 * `promotion.approved`, recorded by two writers: the last required approver's approval, and a
 * re-judgement under a new policy that finds the approvals already recorded complete. The same
 * event either way: the request's digest and every approval that counts.
 */
export function promotionApproved(
  request: { readonly id: string; readonly requestSha256: string },
  approvals: readonly { readonly role: string; readonly approver: string }[],
  policySha256: string,
  actor: Actor,
): EventInput<'promotion.approved'> {
  return {
    type: 'promotion.approved',
    subject: `promotion:${request.id}`,
    actor,
    payload: {
      promotionId: request.id,
      requestDigest: request.requestSha256,
      approvals: approvals.map((a) => ({ role: a.role, approver: a.approver })),
      policySha256,
    },
  };
}
