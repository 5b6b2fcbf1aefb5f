import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { signOffRules } from './promotion-policy.js';

describe('signOffRules', () => {
  it('reads the shipped policy', () => {
    const content = readFileSync(new URL('../../policies/promotion.yaml', import.meta.url), 'utf8');
    expect(signOffRules(content)).toEqual({
      signOffRole: 'compliance-officer',
      minStatementLength: 40,
      minReasonLength: 20,
    });
  });

  it('is null for text without the rules, or not YAML at all', () => {
    expect(signOffRules('version: 1\n')).toBeNull();
    expect(
      signOffRules('signOff: {role: x, minStatementLength: "40"}\ntext: {minReasonLength: 20}'),
    ).toBeNull();
    expect(signOffRules('a: [')).toBeNull();
  });
});
