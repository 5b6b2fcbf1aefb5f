import { describe, expect, it } from '@jest/globals';
import type { DomainError } from '../common/errors.js';
import {
  checkApproval,
  missingRoles,
  type ApprovalAttempt,
  type ApprovalState,
} from './separation-of-duties.js';

const DIGEST = 'a'.repeat(64);
const STATEMENT =
  'I reviewed the fairness audit, the rollback criteria and the model card; approved.';

const state: ApprovalState = {
  status: 'PENDING',
  requestDigest: DIGEST,
  requestedBy: 'dana',
  requiredRoles: ['ml-engineer', 'model-validator', 'compliance-officer'],
  approvals: [],
  signOff: { role: 'compliance-officer', minStatementLength: 40 },
};

const attempt = (overrides: Partial<ApprovalAttempt> = {}): ApprovalAttempt => ({
  approver: 'erin',
  tokenRoles: ['ml-engineer'],
  role: 'ml-engineer',
  maySignOff: false,
  statement: null,
  requestDigest: DIGEST,
  ...overrides,
});

function refusal(a: ApprovalAttempt, s: ApprovalState = state): DomainError {
  try {
    checkApproval(a, s);
  } catch (error) {
    return error as DomainError;
  }
  throw new Error('expected a refusal');
}

describe('separation of duties', () => {
  it('records an approval and says which roles remain', () => {
    expect(checkApproval(attempt(), state)).toEqual({
      role: 'ml-engineer',
      statement: null,
      isSignOff: false,
      remainingRoles: ['model-validator', 'compliance-officer'],
    });
  });

  it('never lets the requester approve their own request', () => {
    const e = refusal(attempt({ approver: 'dana', tokenRoles: ['data-scientist', 'ml-engineer'] }));
    expect(e.code).toBe('SEPARATION_OF_DUTIES');
    expect(e.message).toBe('dana requested this promotion and cannot approve it');
  });

  it('lets one person fill at most one required role', () => {
    const s = { ...state, approvals: [{ role: 'ml-engineer', approver: 'erin' }] };
    const e = refusal(
      attempt({ tokenRoles: ['ml-engineer', 'model-validator'], role: 'model-validator' }),
      s,
    );
    expect(e.code).toBe('SEPARATION_OF_DUTIES');
    expect(e.message).toMatch(/already approved this request as ml-engineer: one person/);
    expect(refusal(attempt(), s).code).toBe('CONFLICT');
  });

  it('refuses a role the token does not carry', () => {
    const e = refusal(attempt({ role: 'model-validator' }));
    expect(e.code).toBe('FORBIDDEN');
    expect(e.message).toBe(
      'you do not hold the role model-validator in your token (roles: ml-engineer)',
    );
  });

  it('refuses a role the policy does not require', () => {
    const e = refusal(attempt({ tokenRoles: ['auditor'], role: 'auditor' }));
    expect(e.code).toBe('BAD_USER_INPUT');
    expect(e.message).toMatch(/auditor is not a role this request needs/);
  });

  it('binds the approval to the digest the approver saw', () => {
    const e = refusal(attempt({ requestDigest: 'b'.repeat(64) }));
    expect(e.code).toBe('CONFLICT');
    expect(e.message).toContain('b'.repeat(64));
    expect(e.message).toContain(DIGEST);
  });

  it('refuses approvals of a closed or already approved request', () => {
    expect(refusal(attempt(), { ...state, status: 'REJECTED' }).message).toBe(
      'the request is REJECTED: it can no longer be approved',
    );
    expect(refusal(attempt(), { ...state, status: 'APPROVED' }).code).toBe('CONFLICT');
  });

  it('requires the sign-off permission and a statement of the compliance officer', () => {
    const officer = {
      approver: 'cora',
      tokenRoles: ['compliance-officer'],
      role: 'compliance-officer',
    };
    expect(refusal(attempt({ ...officer, statement: STATEMENT })).code).toBe('FORBIDDEN');
    expect(refusal(attempt({ ...officer, maySignOff: true })).message).toBe(
      'statement: a sign-off needs a written statement',
    );
    expect(refusal(attempt({ ...officer, maySignOff: true, statement: 'fine' })).code).toBe(
      'BAD_USER_INPUT',
    );
    expect(
      checkApproval(attempt({ ...officer, maySignOff: true, statement: ` ${STATEMENT} ` }), state),
    ).toMatchObject({ isSignOff: true, statement: STATEMENT });
  });

  it('refuses a role another person already filled', () => {
    const s = { ...state, approvals: [{ role: 'ml-engineer', approver: 'eve' }] };
    const e = refusal(attempt(), s);
    expect(e.code).toBe('CONFLICT');
    expect(e.message).toBe('the ml-engineer approval was already given by eve');
  });

  it('lists the roles no approval fills', () => {
    expect(missingRoles(state.requiredRoles, [{ role: 'model-validator' }])).toEqual([
      'ml-engineer',
      'compliance-officer',
    ]);
  });
});
