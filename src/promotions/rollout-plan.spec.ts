import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { BadInputError } from '../common/errors.js';
import { parsePolicyFile } from '../policy/policy-file.js';
import { promotionPolicySchema } from '../policy/promotion-policy.js';
import {
  checkPromotionPlan,
  unmeasurable,
  type PlanContext,
  type PlanInput,
} from './rollout-plan.js';
import { checkStatement } from '../common/statements.js';

const policy = parsePolicyFile(
  'promotion.yaml',
  readFileSync(new URL('../../policies/promotion.yaml', import.meta.url), 'utf8'),
  promotionPolicySchema(),
).value;

const RATIONALE =
  'Errors above one percent break the underwriters’ queue; disparate impact below 0.8 is unlawful.';
const window = { minRequests: 500, seconds: 600 };

function context(overrides: Partial<PlanContext> = {}): PlanContext {
  return {
    riskTier: 'HIGH',
    tier: policy.tiers.HIGH,
    policy,
    endpoint: 'credit',
    liveVersion: null,
    protectedAttributes: ['sex', 'age_group'],
    ...overrides,
  };
}

const initial: PlanInput = {
  strategy: 'INITIAL',
  rollbackCriteria: {
    maxErrorRate: { value: 0.01, window },
    minDisparateImpact: { value: 0.8, window },
    rationale: RATIONALE,
  },
};

const staged: PlanInput = {
  strategy: 'SHADOW_THEN_CANARY',
  plan: {
    shadow: { sampleRate: 1, minRequests: 1000, minDurationSeconds: 86_400 },
    canary: { steps: [5, 25, 50], minRequestsPerStep: 500, bakeSeconds: 3600 },
  },
  rollbackCriteria: { ...initial.rollbackCriteria!, minAgreementWithLive: { value: 0.95, window } },
  successCriteria: { minAgreementWithLive: { value: 0.97, window } },
};

function refusal(input: PlanInput, ctx = context()): { field: string; message: string } {
  try {
    checkPromotionPlan(input, ctx);
  } catch (error) {
    if (error instanceof BadInputError) return { field: error.field, message: error.message };
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('rollout plans and criteria', () => {
  it('accepts INITIAL for an endpoint with nothing live and normalizes to plain JSON', () => {
    const sut = checkPromotionPlan(initial, context());
    expect(sut).toEqual({
      strategy: 'INITIAL',
      plan: {},
      rollbackCriteria: {
        maxErrorRate: { value: 0.01, window },
        minDisparateImpact: { value: 0.8, window },
        rationale: RATIONALE,
      },
      successCriteria: null,
    });
  });

  it('requires INITIAL for the first version and refuses it once a version is live', () => {
    expect(refusal(staged)).toEqual({
      field: 'strategy',
      message:
        'strategy: endpoint credit has no live version: its first version goes live with INITIAL',
    });
    expect(refusal(initial, context({ liveVersion: 1 })).message).toMatch(
      /already serves version 1: INITIAL is only for an endpoint's first version/,
    );
  });

  it('holds a HIGH-risk model to SHADOW_THEN_CANARY once live', () => {
    const live = context({ liveVersion: 1 });
    expect(checkPromotionPlan(staged, live).plan.canary?.steps).toEqual([5, 25, 50]);
    expect(
      refusal({ ...staged, strategy: 'CANARY', plan: { canary: staged.plan!.canary! } }, live),
    ).toEqual({
      field: 'strategy',
      message: 'strategy: HIGH-risk models must use SHADOW_THEN_CANARY once a live version exists',
    });
  });

  it('refuses canary steps larger than the policy allows, or not increasing', () => {
    const live = context({ liveVersion: 1 });
    const canary = (steps: number[]) => ({
      ...staged,
      plan: { ...staged.plan, canary: { ...staged.plan!.canary!, steps } },
    });
    expect(refusal(canary([5, 40]), live)).toMatchObject({ field: 'plan.canary.steps[1]' });
    expect(refusal(canary([5, 40]), live).message).toMatch(/adds 35 % .* at most 25 %/);
    expect(refusal(canary([25, 10]), live).message).toMatch(/above the previous step/);
    expect(refusal(canary([25, 50, 75, 100]), live).field).toBe('plan.canary.steps[3]');
  });

  it('refuses a bake time or shadow below the policy minimum', () => {
    const live = context({ liveVersion: 1 });
    const input = {
      ...staged,
      plan: { ...staged.plan, canary: { ...staged.plan!.canary!, bakeSeconds: 60 } },
    };
    expect(refusal(input, live)).toMatchObject({ field: 'plan.canary.bakeSeconds' });
    expect(refusal(input, live).message).toMatch(/minimum bake time is 3600 s/);
    const shadow = {
      ...staged,
      plan: {
        ...staged.plan,
        shadow: { sampleRate: 0, minRequests: 1000, minDurationSeconds: 86_400 },
      },
    };
    expect(refusal(shadow, live).field).toBe('plan.shadow.sampleRate');
  });

  it('refuses stage settings the strategy does not use, and missing ones it needs', () => {
    expect(refusal({ ...initial, plan: { canary: staged.plan!.canary! } })).toMatchObject({
      field: 'plan.canary',
    });
    const live = context({ liveVersion: 1 });
    expect(refusal({ ...staged, plan: { shadow: staged.plan!.shadow! } }, live)).toMatchObject({
      field: 'plan.canary',
      message: 'plan.canary: is required by SHADOW_THEN_CANARY',
    });
  });

  it('validates an A/B test against the tier that allows it', () => {
    const low = context({ riskTier: 'LOW', tier: policy.tiers.LOW, liveVersion: 2 });
    const ab: PlanInput = {
      strategy: 'AB_TEST',
      plan: {
        abTest: { splitPercent: 50, outcome: 'AUC', minSamples: 1000, significanceLevel: 0.05 },
      },
      rollbackCriteria: { maxErrorRate: { value: 0.02, window }, rationale: RATIONALE },
    };
    expect(checkPromotionPlan(ab, low).plan.abTest?.outcome).toBe('AUC');
    const loose = { ...ab, plan: { abTest: { ...ab.plan!.abTest!, significanceLevel: 0.1 } } };
    expect(refusal(loose, low).field).toBe('plan.abTest.significanceLevel');
  });

  it('refuses a request without rollback criteria, without thresholds or without rationale', () => {
    expect(refusal({ strategy: 'INITIAL' }).field).toBe('rollbackCriteria');
    expect(
      refusal({ strategy: 'INITIAL', rollbackCriteria: { rationale: RATIONALE } }).message,
    ).toMatch(/name at least one threshold/);
    expect(
      refusal({
        ...initial,
        rollbackCriteria: { ...initial.rollbackCriteria!, rationale: 'because' },
      }),
    ).toMatchObject({ field: 'rollbackCriteria.rationale' });
  });

  it('refuses criteria the tier requires but the request leaves out', () => {
    const input = {
      strategy: 'INITIAL' as const,
      rollbackCriteria: { maxErrorRate: { value: 0.01, window }, rationale: RATIONALE },
    };
    expect(refusal(input).message).toBe(
      'rollbackCriteria: the HIGH policy requires minDisparateImpact',
    );
  });

  it('refuses criteria that cannot be measured under the strategy', () => {
    expect(
      refusal({
        ...initial,
        rollbackCriteria: {
          ...initial.rollbackCriteria!,
          minAgreementWithLive: { value: 0.9, window },
        },
      }),
    ).toEqual({
      field: 'rollbackCriteria.minAgreementWithLive',
      message:
        'rollbackCriteria.minAgreementWithLive: cannot be measured under INITIAL: there is no live version to agree with',
    });
    expect(unmeasurable('minAgreementWithLive', 'CANARY', { protectedAttributes: [] })).toMatch(
      /only SHADOW and SHADOW_THEN_CANARY mirror requests/,
    );
    expect(unmeasurable('minAgreementWithLive', 'SHADOW', { protectedAttributes: [] })).toBeNull();
    expect(unmeasurable('minDisparateImpact', 'CANARY', { protectedAttributes: [] })).toMatch(
      /no protected attributes/,
    );
    expect(
      refusal({ ...initial, successCriteria: { maxErrorRate: { value: 0.01, window } } }).field,
    ).toBe('successCriteria');
  });

  it('refuses values out of range and windows shorter than the policy', () => {
    const at = (criteria: object) =>
      refusal({ ...initial, rollbackCriteria: { ...initial.rollbackCriteria!, ...criteria } });
    expect(at({ maxErrorRate: { value: 1.5, window } }).field).toBe(
      'rollbackCriteria.maxErrorRate.value',
    );
    expect(at({ maxP99LatencyMs: { value: -3, window } }).field).toBe(
      'rollbackCriteria.maxP99LatencyMs.value',
    );
    expect(
      at({ maxErrorRate: { value: 0.01, window: { minRequests: 5, seconds: 600 } } }).field,
    ).toBe('rollbackCriteria.maxErrorRate.window.minRequests');
    expect(
      at({ maxErrorRate: { value: 0.01, window: { minRequests: 500, seconds: 10 } } }).field,
    ).toBe('rollbackCriteria.maxErrorRate.window.seconds');
    expect(at({ maxPsiDrift: { value: Number.NaN, window } }).field).toBe(
      'rollbackCriteria.maxPsiDrift.value',
    );
  });
});

describe('statements', () => {
  it('keeps a written statement, trimmed', () => {
    expect(
      checkStatement('s', '  I reviewed the fairness audit and the rollback plan.  ', 20),
    ).toBe('I reviewed the fairness audit and the rollback plan.');
  });

  it('refuses short text and padding that is not words', () => {
    expect(() => checkStatement('s', 'ok', 20)).toThrow(/at least 20 characters, 2 given/);
    expect(() => checkStatement('s', 'approved approved approved approved', 20)).toThrow(
      /at least 3 different words, 1 given/,
    );
    expect(() => checkStatement('s', '.'.repeat(50), 20)).toThrow(/different words, 0 given/);
  });
});
