import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { parsePolicyFile, PolicyFileError } from './policy-file.js';
import { promotionPolicySchema } from './promotion-policy.js';
import { rolesPolicySchema } from './roles-policy.js';

const read = (name: string) =>
  readFileSync(new URL(`../../policies/${name}`, import.meta.url), 'utf8');
const shipped = read('promotion.yaml');
const roles = parsePolicyFile('roles.yaml', read('roles.yaml'), rolesPolicySchema).value;

function parse(text: string) {
  return parsePolicyFile('promotion.yaml', text, promotionPolicySchema(roles));
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

const lineOf = (text: string, fragment: string) =>
  text.split('\n').findIndex((l) => l.includes(fragment)) + 1;

describe('policies/promotion.yaml', () => {
  it('loads the shipped file: three roles for HIGH, shadow then canary once live', () => {
    const { value, sha256 } = parse(shipped);
    expect(sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(value.tiers.HIGH.approvers).toEqual([
      'ml-engineer',
      'model-validator',
      'compliance-officer',
    ]);
    expect(value.tiers.MEDIUM.approvers).toEqual(['ml-engineer', 'compliance-officer']);
    expect(value.tiers.LOW.approvers).toEqual(['ml-engineer']);
    expect(value.tiers.HIGH.strategies).toEqual(['SHADOW_THEN_CANARY']);
    expect(value.tiers.HIGH.fairness).toEqual({
      minGroupSize: 30,
      minDisparateImpact: 0.8,
      maxEqualizedOddsDifference: 0.1,
    });
    expect(value.signOff.role).toBe('compliance-officer');
  });

  it('reads durations with their unit into seconds', () => {
    const { value } = parse(shipped);
    expect(value.tiers.HIGH.maxEvaluationAge).toBe(30 * 86_400);
    expect(value.tiers.HIGH.canary?.minBake).toBe(3600);
    expect(value.criteriaWindow.minDuration).toBe(60);
  });

  it('refuses a bare number as a duration, with its line', () => {
    const broken = shipped.replace('maxEvaluationAge: 30d', 'maxEvaluationAge: 30');
    const error = errorOf(broken);
    expect(error.line).toBe(lineOf(broken, 'maxEvaluationAge: 30'));
    expect(error.reason).toMatch(/^tiers\.HIGH\.maxEvaluationAge: /);
  });

  it('refuses an approver role that roles.yaml does not let approve', () => {
    const broken = shipped.replace(
      'approvers: [ml-engineer, model-validator, compliance-officer]',
      'approvers: [ml-engineer, auditor, compliance-officer]',
    );
    const error = errorOf(broken);
    expect(error.line).toBe(lineOf(broken, 'approvers: [ml-engineer, auditor'));
    expect(error.message).toBe(
      `promotion.yaml:${error.line}: tiers.HIGH.approvers.1: role auditor may not approve PromotionRequest in roles.yaml`,
    );
  });

  it('refuses an unknown approver role', () => {
    const broken = shipped.replace('approvers: [ml-engineer]', 'approvers: [ml-wizard]');
    expect(errorOf(broken).reason).toBe(
      'tiers.LOW.approvers.0: role ml-wizard is not in roles.yaml',
    );
  });

  it('refuses a sign-off role without the sign-off permission', () => {
    const broken = shipped.replace('role: compliance-officer', 'role: ml-engineer');
    expect(errorOf(broken).reason).toBe(
      'signOff.role: role ml-engineer may not sign-off PromotionRequest in roles.yaml',
    );
  });

  it('refuses a strategy whose stage limits are missing', () => {
    const broken = shipped.replace(
      'strategies: [SHADOW_THEN_CANARY, CANARY, SHADOW, BLUE_GREEN]',
      'strategies: [SHADOW_THEN_CANARY, CANARY, SHADOW, BLUE_GREEN, AB_TEST]',
    );
    expect(errorOf(broken).reason).toBe(
      'tiers.MEDIUM.strategies: AB_TEST is allowed, so abTest limits are required in tier MEDIUM',
    );
  });

  it('refuses INITIAL among the strategies once live, and unknown criteria', () => {
    expect(
      errorOf(shipped.replace('strategies: [SHADOW_THEN_CANARY]', 'strategies: [INITIAL]')).reason,
    ).toMatch(/^tiers\.HIGH\.strategies\.0: /);
    expect(
      errorOf(shipped.replace('[maxErrorRate, minDisparateImpact]', '[maxErrorRate, vibes]'))
        .reason,
    ).toMatch(/^tiers\.HIGH\.requiredCriteria\.1: /);
  });

  it('refuses a missing tier and an unknown key', () => {
    const withoutLow = shipped.slice(0, shipped.indexOf('  LOW:'));
    expect(errorOf(withoutLow).reason).toMatch(/^tiers\.LOW: /);
    expect(errorOf(shipped.replace('version: 1', 'version: 1\nextra: true')).reason).toMatch(
      /Unrecognized key: "extra"/,
    );
  });
});
