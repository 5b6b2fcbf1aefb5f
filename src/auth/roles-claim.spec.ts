import { describe, expect, it } from '@jest/globals';
import { readRolesClaim } from './roles-claim.js';

describe('readRolesClaim', () => {
  it('reads a top-level array', () => {
    expect(readRolesClaim({ roles: ['a', 'b'] }, 'roles')).toEqual(['a', 'b']);
  });
  it('reads a nested path such as Keycloak realm roles', () => {
    expect(readRolesClaim({ realm_access: { roles: ['auditor'] } }, 'realm_access.roles')).toEqual([
      'auditor',
    ]);
  });
  it('prefers a namespaced claim whose name contains dots', () => {
    expect(
      readRolesClaim({ 'https://bank.example/roles': ['admin'] }, 'https://bank.example/roles'),
    ).toEqual(['admin']);
  });
  it('splits a space- or comma-separated string (OAuth scope style)', () => {
    expect(readRolesClaim({ roles: 'a b,c' }, 'roles')).toEqual(['a', 'b', 'c']);
  });
  it('ignores non-string entries and missing claims', () => {
    expect(readRolesClaim({ roles: ['a', 1, null] }, 'roles')).toEqual(['a']);
    expect(readRolesClaim({}, 'realm_access.roles')).toEqual([]);
    expect(readRolesClaim({ realm_access: 'x' }, 'realm_access.roles')).toEqual([]);
  });
  it('reads only the claims the token has, not members every object inherits', () => {
    expect(readRolesClaim({}, 'constructor')).toEqual([]);
    expect(readRolesClaim({ a: {} }, 'a.toString')).toEqual([]);
    expect(
      readRolesClaim(JSON.parse('{"__proto__":["admin"]}') as Record<string, unknown>, '__proto__'),
    ).toEqual(['admin']);
  });
});
