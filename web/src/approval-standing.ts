/**
 * Whether the signed-in person may approve a pending request, and why not. The service decides
 * on the approval itself (docs/promotions.md, separation of duties); this says ahead of time
 * what it would answer, so the inbox lists a request with its reason instead of inviting a
 * refused approval.
 */

export interface RequestForStanding {
  readonly requestedBy: string;
  readonly missingRoles: readonly string[];
  readonly approvals: readonly { readonly role: string; readonly approver: string }[];
}

export interface Signer {
  readonly subject: string;
  readonly roles: readonly string[];
}

export type Standing =
  /** No role the request still misses is one the signer holds: not theirs to act on. */
  | { readonly kind: 'not-waiting' }
  /** The missing roles the signer holds, in the request's order. */
  | { readonly kind: 'may-approve'; readonly roles: readonly string[] }
  | {
      readonly kind: 'may-not-approve';
      readonly roles: readonly string[];
      readonly code: 'SEPARATION_OF_DUTIES';
      readonly reason: string;
    };

export function approvalStanding(request: RequestForStanding, signer: Signer): Standing {
  const roles = request.missingRoles.filter((role) => signer.roles.includes(role));
  if (roles.length === 0) return { kind: 'not-waiting' };
  if (request.requestedBy === signer.subject) {
    return {
      kind: 'may-not-approve',
      roles,
      code: 'SEPARATION_OF_DUTIES',
      reason: 'You requested this promotion: a requester never approves their own request.',
    };
  }
  const own = request.approvals.find((approval) => approval.approver === signer.subject);
  if (own) {
    return {
      kind: 'may-not-approve',
      roles,
      code: 'SEPARATION_OF_DUTIES',
      reason: `You already approved this request as ${own.role}: one person approves in one role only.`,
    };
  }
  return { kind: 'may-approve', roles };
}
