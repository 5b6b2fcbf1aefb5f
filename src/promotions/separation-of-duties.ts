import { BadInputError, ConflictError } from '../common/errors.js';
import { PromotionForbiddenError, SeparationOfDutiesError } from './promotion.errors.js';
import { transition } from './promotion-state.js';
import { checkStatement } from '../common/statements.js';
import type { PromotionStatus } from './vocabulary.js';

/**
 * Whether one approval may be recorded under separation of duties, as a pure function of the attempt and
 * the request as it stands under its row lock. Every refusal is a DomainError the caller
 * ledgers as a refused attempt before it reaches the client.
 */

export interface ApprovalAttempt {
  /** The approver's subject, from the verified token. */
  readonly approver: string;
  /** The roles the token carries. */
  readonly tokenRoles: readonly string[];
  /** The role the approver approves in. */
  readonly role: string;
  /** Whether the approver's roles grant `sign-off` on PromotionRequest. */
  readonly maySignOff: boolean;
  readonly statement: string | null;
  /** The request digest the approver saw and approves. */
  readonly requestDigest: string;
}

export interface ApprovalState {
  readonly status: PromotionStatus;
  readonly requestDigest: string;
  readonly requestedBy: string;
  /** The roles the policy requires for the model's risk tier. */
  readonly requiredRoles: readonly string[];
  readonly approvals: readonly { readonly role: string; readonly approver: string }[];
  readonly signOff: { readonly role: string; readonly minStatementLength: number };
}

export interface CheckedApproval {
  readonly role: string;
  readonly statement: string | null;
  readonly isSignOff: boolean;
  /** Roles still missing once this approval is recorded; empty: the request is approved. */
  readonly remainingRoles: readonly string[];
}

export function checkApproval(attempt: ApprovalAttempt, state: ApprovalState): CheckedApproval {
  transition(state.status, 'approve');
  if (attempt.requestDigest !== state.requestDigest)
    throw new ConflictError(
      `the approval is for request digest ${attempt.requestDigest}, but the request's digest is ${state.requestDigest}: review the request as it is and approve that`,
      { approvedDigest: attempt.requestDigest, requestDigest: state.requestDigest },
    );
  if (!attempt.tokenRoles.includes(attempt.role))
    throw new PromotionForbiddenError(
      `you do not hold the role ${attempt.role} in your token (roles: ${attempt.tokenRoles.join(', ') || 'none'})`,
      { role: attempt.role, tokenRoles: [...attempt.tokenRoles] },
    );
  if (!state.requiredRoles.includes(attempt.role))
    throw new BadInputError(
      'role',
      `${attempt.role} is not a role this request needs (it needs ${state.requiredRoles.join(', ')})`,
    );
  const isSignOff = attempt.role === state.signOff.role;
  if (isSignOff && !attempt.maySignOff)
    throw new PromotionForbiddenError(
      `approving as ${attempt.role} is the sign-off, and your roles do not grant sign-off`,
      { role: attempt.role },
    );
  if (attempt.approver === state.requestedBy)
    throw new SeparationOfDutiesError(
      `${attempt.approver} requested this promotion and cannot approve it`,
      { approver: attempt.approver, requestedBy: state.requestedBy },
    );
  const own = state.approvals.find((a) => a.approver === attempt.approver);
  if (own?.role === attempt.role)
    throw new ConflictError(`${attempt.approver} already approved this request as ${own.role}`, {
      approver: attempt.approver,
      role: own.role,
    });
  if (own)
    throw new SeparationOfDutiesError(
      `${attempt.approver} already approved this request as ${own.role}: one person fills at most one required role`,
      { approver: attempt.approver, approvedAs: own.role, role: attempt.role },
    );
  const filled = state.approvals.find((a) => a.role === attempt.role);
  if (filled)
    throw new ConflictError(
      `the ${attempt.role} approval was already given by ${filled.approver}`,
      {
        role: attempt.role,
        approver: filled.approver,
      },
    );
  const statement =
    attempt.statement === null || attempt.statement.trim() === '' ? null : attempt.statement.trim();
  if (isSignOff) {
    if (statement === null)
      throw new BadInputError('statement', 'a sign-off needs a written statement');
    checkStatement('statement', statement, state.signOff.minStatementLength);
  } else if (statement !== null && statement.length > 10_000) {
    throw new BadInputError('statement', 'must be at most 10000 characters');
  }
  const approved = new Set([...state.approvals.map((a) => a.role), attempt.role]);
  return {
    role: attempt.role,
    statement,
    isSignOff,
    remainingRoles: state.requiredRoles.filter((r) => !approved.has(r)),
  };
}

/** Roles the policy requires that no approval fills yet. */
export function missingRoles(
  requiredRoles: readonly string[],
  approvals: readonly { readonly role: string }[],
): string[] {
  const approved = new Set(approvals.map((a) => a.role));
  return requiredRoles.filter((r) => !approved.has(r));
}
