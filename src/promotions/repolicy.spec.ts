import { describe, expect, it } from '@jest/globals';
import { repolicy, type JudgedRequest } from './repolicy.js';
import { PROMOTION_STATUSES } from './vocabulary.js';

const OLD = 'a'.repeat(64);
const NEW = 'b'.repeat(64);
const THREE = ['ml-engineer', 'model-validator', 'compliance-officer'];
const TWO = ['ml-engineer', 'model-validator'];

function request(overrides: Partial<JudgedRequest> = {}): JudgedRequest {
  return {
    status: 'PENDING',
    requiredRoles: THREE,
    policySha256: OLD,
    approvals: [{ role: 'ml-engineer' }, { role: 'model-validator' }],
    ...overrides,
  };
}

describe('repolicy', () => {
  it('approves a pending request whose approvals fill every role the policy in force requires', () => {
    expect(repolicy(request(), { sha256: NEW, requiredRoles: TWO })).toEqual({
      previousPolicySha256: OLD,
      policySha256: NEW,
      previousRequiredRoles: THREE,
      requiredRoles: TWO,
      addedRoles: [],
      removedRoles: ['compliance-officer'],
      previousStatus: 'PENDING',
      status: 'APPROVED',
      missingRoles: [],
    });
  });

  it('sends an approved request back to pending when the policy in force requires another role', () => {
    const approved = request({ status: 'APPROVED', requiredRoles: TWO });
    expect(repolicy(approved, { sha256: NEW, requiredRoles: THREE })).toMatchObject({
      previousRequiredRoles: TWO,
      requiredRoles: THREE,
      addedRoles: ['compliance-officer'],
      removedRoles: [],
      previousStatus: 'APPROVED',
      status: 'PENDING',
      missingRoles: ['compliance-officer'],
    });
  });

  it('keeps a request pending on the roles still missing, and names roles swapped both ways', () => {
    const sut = repolicy(request({ approvals: [{ role: 'compliance-officer' }] }), {
      sha256: NEW,
      requiredRoles: ['compliance-officer', 'model-validator'],
    });
    expect(sut).toMatchObject({
      addedRoles: [],
      removedRoles: ['ml-engineer'],
      status: 'PENDING',
      missingRoles: ['model-validator'],
    });
    const swapped = repolicy(request({ requiredRoles: TWO, approvals: [] }), {
      sha256: NEW,
      requiredRoles: ['ml-engineer', 'compliance-officer'],
    });
    expect(swapped).toMatchObject({
      addedRoles: ['compliance-officer'],
      removedRoles: ['model-validator'],
      status: 'PENDING',
      missingRoles: ['ml-engineer', 'compliance-officer'],
    });
  });

  it('records a change of policy even when the tier’s roles stay the same', () => {
    expect(repolicy(request(), { sha256: NEW, requiredRoles: THREE })).toMatchObject({
      previousPolicySha256: OLD,
      policySha256: NEW,
      addedRoles: [],
      removedRoles: [],
      status: 'PENDING',
      missingRoles: ['compliance-officer'],
    });
  });

  it('changes nothing under the policy it was judged under, or once the request left approval', () => {
    expect(repolicy(request(), { sha256: OLD, requiredRoles: TWO })).toBeNull();
    for (const status of PROMOTION_STATUSES.filter((s) => s !== 'PENDING' && s !== 'APPROVED'))
      expect(repolicy(request({ status }), { sha256: NEW, requiredRoles: TWO })).toBeNull();
  });

  it('is APPROVED exactly when no required role is missing, whatever the roles and approvals', () => {
    const roles = ['ml-engineer', 'model-validator', 'compliance-officer', 'risk-officer'];
    const subsets = (n: number) => roles.filter((_, i) => (n >> i) & 1);
    for (let required = 1; required < 16; required++)
      for (let given = 0; given < 16; given++)
        for (const status of ['PENDING', 'APPROVED'] as const) {
          const sut = repolicy(
            request({ status, approvals: subsets(given).map((role) => ({ role })) }),
            { sha256: NEW, requiredRoles: subsets(required) },
          );
          expect(sut).not.toBeNull();
          expect(sut?.status === 'APPROVED').toBe(sut?.missingRoles.length === 0);
          expect(sut?.status === 'PENDING').toBe((sut?.missingRoles.length ?? 0) > 0);
        }
  });
});
