import type { PromotionRepoliciedPayload } from '../ledger/event-catalogue.js';
import { missingRoles } from './separation-of-duties.js';
import type { PromotionStatus } from './vocabulary.js';

/**
 * An open request is judged under the promotion policy in force, not the one it was requested
 * under: nothing goes live under a policy that has been replaced, and a policy that stops
 * requiring a role does not leave a request waiting for an approval nobody may give. What was
 * requested never changes (the request digest still names the policy of the request); what
 * moves is the list of roles the request needs and, with it, whether it is APPROVED. Pure, so
 * that the start-up sweep and every decision under the request's row lock decide alike.
 */

/** The statuses in which the roles a request needs still decide anything. */
export const REJUDGED_STATUSES = ['PENDING', 'APPROVED'] as const;
export type RejudgedStatus = (typeof REJUDGED_STATUSES)[number];

export interface JudgedRequest {
  readonly status: PromotionStatus;
  /** The roles it needs under the policy it was last judged under. */
  readonly requiredRoles: readonly string[];
  /** SHA-256 of that policy. */
  readonly policySha256: string;
  /** Every approval recorded (each binds the request's digest: approvals checks that). */
  readonly approvals: readonly { readonly role: string }[];
}

export interface PolicyInForce {
  readonly sha256: string;
  /** The roles it requires for the request's risk tier. */
  readonly requiredRoles: readonly string[];
}

/** What `promotion.repolicied` records of the judgement (the event adds the request's ids). */
export type Repolicy = Omit<
  PromotionRepoliciedPayload,
  'promotionId' | 'requestDigest' | 'previousStatus' | 'status'
> & {
  readonly previousStatus: RejudgedStatus;
  /** APPROVED exactly when the approvals recorded fill every role now required. */
  readonly status: RejudgedStatus;
};

/**
 * The change of an open request judged under another policy than the one in force; null when
 * there is none to make (judged under it already, or no longer open to approvals).
 */
export function repolicy(request: JudgedRequest, inForce: PolicyInForce): Repolicy | null {
  if (request.policySha256 === inForce.sha256) return null;
  const previousStatus = rejudged(request.status);
  if (previousStatus === null) return null;
  const missing = missingRoles(inForce.requiredRoles, request.approvals);
  return {
    previousPolicySha256: request.policySha256,
    policySha256: inForce.sha256,
    previousRequiredRoles: [...request.requiredRoles],
    requiredRoles: [...inForce.requiredRoles],
    addedRoles: inForce.requiredRoles.filter((r) => !request.requiredRoles.includes(r)),
    removedRoles: request.requiredRoles.filter((r) => !inForce.requiredRoles.includes(r)),
    previousStatus,
    status: missing.length === 0 ? 'APPROVED' : 'PENDING',
    missingRoles: missing,
  };
}

function rejudged(status: PromotionStatus): RejudgedStatus | null {
  return status === 'PENDING' || status === 'APPROVED' ? status : null;
}
