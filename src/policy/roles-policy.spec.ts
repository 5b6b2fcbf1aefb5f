import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { buildAbility } from '../auth/ability.js';
import { parsePolicyFile, PolicyFileError } from './policy-file.js';
import { permissionsOf, rolesPolicySchema } from './roles-policy.js';

const shipped = readFileSync(new URL('../../policies/roles.yaml', import.meta.url), 'utf8');

function parse(text: string) {
  return parsePolicyFile('roles.yaml', text, rolesPolicySchema);
}

function errorOf(text: string): PolicyFileError {
  try {
    parse(text);
  } catch (error) {
    if (error instanceof PolicyFileError) return error;
    throw error;
  }
  throw new Error('expected a PolicyFileError');
}

describe('roles policy', () => {
  it('loads the shipped policies/roles.yaml with the governance roles', () => {
    const sut = parse(shipped);
    expect(Object.keys(sut.value.roles)).toEqual(
      expect.arrayContaining([
        'data-scientist',
        'ml-engineer',
        'model-validator',
        'compliance-officer',
        'auditor',
        'admin',
      ]),
    );
    expect(sut.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('gives the auditor read on everything and no change', () => {
    const ability = buildAbility(permissionsOf(parse(shipped).value, ['auditor']));
    expect(ability.can('read', 'Ledger')).toBe(true);
    expect(ability.can('read', 'PromotionRequest')).toBe(true);
    expect(ability.can('approve', 'PromotionRequest')).toBe(false);
    expect(ability.can('create', 'Model')).toBe(false);
  });

  it('keeps admin out of approvals by default', () => {
    const ability = buildAbility(permissionsOf(parse(shipped).value, ['admin']));
    expect(ability.can('rotate', 'SigningKey')).toBe(true);
    expect(ability.can('approve', 'PromotionRequest')).toBe(false);
  });

  it('unions the permissions of several roles and ignores unknown roles', () => {
    const policy = parse(shipped).value;
    const both = permissionsOf(policy, ['data-scientist', 'nobody']);
    expect(both).toContainEqual({ action: 'create', subject: 'Model' });
    expect(permissionsOf(policy, ['nobody'])).toEqual([]);
  });

  it('grants nothing to role names that are members every object inherits', () => {
    const policy = parse(shipped).value;
    for (const role of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'])
      expect({ role, granted: permissionsOf(policy, [role]) }).toEqual({ role, granted: [] });
  });

  it('names the line of an unknown action', () => {
    const error = errorOf(
      'version: 1\nroles:\n  x:\n    description: d\n    can:\n      fly: [Model]\n',
    );
    expect(error.line).toBe(6);
    expect(error.message).toBe('roles.yaml:6: roles.x.can: Unrecognized key: "fly"');
  });

  it('names the line of an unknown subject', () => {
    const error = errorOf(
      'version: 1\nroles:\n  x:\n    description: d\n    can:\n      read: [Model, Spaceship]\n',
    );
    expect(error.line).toBe(6);
    expect(error.reason).toContain('roles.x.can.read.1');
  });

  it('refuses a YAML syntax error with its line', () => {
    const error = errorOf('version: 1\nroles:\n  x: [unclosed\n');
    expect(error.line).toBeGreaterThanOrEqual(3);
  });

  it('refuses duplicate keys, which YAML would otherwise let the last one win', () => {
    expect(() =>
      parse('version: 1\nroles:\n  x:\n    description: a\n    description: b\n    can: {}\n'),
    ).toThrow(PolicyFileError);
  });

  it('refuses a missing version', () => {
    expect(errorOf('roles:\n  x:\n    description: d\n    can: {}\n').reason).toContain('version');
  });
});
