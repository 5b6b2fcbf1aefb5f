import { describe, expect, it } from '@jest/globals';
import { approvalStanding, type RequestForStanding } from './approval-standing.js';

const request: RequestForStanding = {
  requestedBy: 'dana',
  missingRoles: ['ml-engineer', 'compliance-officer'],
  approvals: [{ role: 'model-validator', approver: 'val' }],
};

describe('approvalStanding', () => {
  it('offers the missing roles the signer holds, in the request order', () => {
    expect(
      approvalStanding(request, {
        subject: 'carol',
        roles: ['compliance-officer', 'auditor', 'ml-engineer'],
      }),
    ).toEqual({ kind: 'may-approve', roles: ['ml-engineer', 'compliance-officer'] });
  });

  it('leaves out a request that misses no role the signer holds', () => {
    expect(approvalStanding(request, { subject: 'val', roles: ['model-validator'] })).toEqual({
      kind: 'not-waiting',
    });
    expect(approvalStanding(request, { subject: 'audrey', roles: [] })).toEqual({
      kind: 'not-waiting',
    });
  });

  it('refuses the requester, whatever roles they hold', () => {
    const standing = approvalStanding(request, { subject: 'dana', roles: ['ml-engineer'] });
    expect(standing).toEqual({
      kind: 'may-not-approve',
      roles: ['ml-engineer'],
      code: 'SEPARATION_OF_DUTIES',
      reason: 'You requested this promotion: a requester never approves their own request.',
    });
  });

  it('refuses someone who already approved in another role, naming it', () => {
    const standing = approvalStanding(request, {
      subject: 'val',
      roles: ['model-validator', 'ml-engineer'],
    });
    expect(standing).toMatchObject({
      kind: 'may-not-approve',
      code: 'SEPARATION_OF_DUTIES',
      reason: expect.stringContaining('as model-validator'),
    });
  });
});
