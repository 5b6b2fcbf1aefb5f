import { z } from 'zod';
import { buildAbility } from '../auth/ability.js';
import { parseDurationSeconds } from '../common/duration.js';
import {
  COMPARED_METRICS,
  CRITERIA,
  STAGED_STRATEGIES,
  type StagedStrategy,
} from './promotion-vocabulary.js';
import { RISK_TIERS, type RiskTier } from './risk-tiers.js';
import { permissionsOf, type RolesPolicy } from './roles-policy.js';

const DURATION = /^[1-9][0-9]*[smhd]$/;

/** `90s`, `15m`, `1h`, `30d` → seconds. A unit is required: a bare number is ambiguous. */
const duration = z
  .string()
  .regex(DURATION, 'must be a duration such as 90s, 15m, 1h or 30d')
  .transform((text) => parseDurationSeconds(text) ?? 0);

const roleName = z.string().regex(/^[a-z][a-z0-9-]*$/, 'must be a role name of roles.yaml');
const count = z.int().min(1).max(1_000_000_000);
const share = z.number().gt(0).max(1);

const unique = (items: readonly unknown[]) => new Set(items).size === items.length;

const tierSchema = z.strictObject({
  /** Roles that must each approve, each by a different person. */
  approvers: z
    .array(roleName)
    .min(1)
    .refine(unique, 'lists a role twice: one approval per role, by one person each'),
  fairness: z.strictObject({
    minGroupSize: z.int().min(1).max(1_000_000),
    minDisparateImpact: share.optional(),
    maxEqualizedOddsDifference: z.number().min(0).max(1).optional(),
    maxDemographicParityDifference: z.number().min(0).max(1).optional(),
    maxEqualOpportunityDifference: z.number().min(0).max(1).optional(),
  }),
  performance: z.strictObject({
    metrics: z.array(z.enum(COMPARED_METRICS)).min(1).refine(unique, 'lists a metric twice'),
    /** Absolute: a candidate may be at most this much worse than the live version. */
    maxDegradation: z.number().min(0).max(1),
  }),
  maxEvaluationAge: duration,
  /** Once a live version exists; one entry makes that strategy required. */
  strategies: z.array(z.enum(STAGED_STRATEGIES)).min(1).refine(unique, 'lists a strategy twice'),
  requiredCriteria: z.array(z.enum(CRITERIA)).refine(unique, 'lists a criterion twice'),
  shadow: z.strictObject({ minRequests: count, minDuration: duration }).optional(),
  canary: z
    .strictObject({
      maxStepPercent: z.int().min(1).max(100),
      minBake: duration,
      minRequestsPerStep: count,
    })
    .optional(),
  abTest: z
    .strictObject({
      minSamples: count,
      maxSignificanceLevel: z.number().gt(0).max(0.2),
    })
    .optional(),
});

export type TierPolicy = z.output<typeof tierSchema>;

const STAGE_LIMITS: Record<StagedStrategy, readonly ('shadow' | 'canary' | 'abTest')[]> = {
  SHADOW_THEN_CANARY: ['shadow', 'canary'],
  CANARY: ['canary'],
  SHADOW: ['shadow'],
  BLUE_GREEN: [],
  AB_TEST: ['abTest'],
};

function policySchema(roles: RolesPolicy | undefined) {
  return z
    .strictObject({
      version: z.literal(1),
      signOff: z.strictObject({
        /** Approving in this role is the sign-off: it needs the sign-off permission and a statement. */
        role: roleName,
        minStatementLength: z.int().min(1).max(10_000),
      }),
      text: z.strictObject({
        minJustificationLength: z.int().min(1).max(10_000),
        minRationaleLength: z.int().min(1).max(10_000),
        minReasonLength: z.int().min(1).max(10_000),
      }),
      criteriaWindow: z.strictObject({
        minRequests: count,
        minDuration: duration,
        maxDuration: duration,
      }),
      modelCard: z.strictObject({ minFieldLength: z.int().min(1).max(10_000) }),
      /** How the rollout controller judges criteria: the level of every statistical test. */
      rollouts: z.strictObject({ significanceLevel: z.number().gt(0).max(0.2) }),
      tiers: z.strictObject({ LOW: tierSchema, MEDIUM: tierSchema, HIGH: tierSchema }),
    })
    .superRefine((policy, ctx) => {
      if (policy.criteriaWindow.maxDuration < policy.criteriaWindow.minDuration)
        ctx.addIssue({
          code: 'custom',
          path: ['criteriaWindow', 'maxDuration'],
          message: 'is shorter than minDuration',
        });
      for (const tier of RISK_TIERS) {
        const t = policy.tiers[tier];
        for (const strategy of t.strategies)
          for (const limits of STAGE_LIMITS[strategy])
            if (t[limits] === undefined)
              ctx.addIssue({
                code: 'custom',
                path: ['tiers', tier, 'strategies'],
                message: `${strategy} is allowed, so ${limits} limits are required in tier ${tier}`,
              });
      }
      if (roles === undefined) return;
      const may = (role: string, action: 'approve' | 'sign-off') =>
        buildAbility(permissionsOf(roles, [role])).can(action, 'PromotionRequest');
      for (const tier of RISK_TIERS)
        policy.tiers[tier].approvers.forEach((role, i) => {
          const path = ['tiers', tier, 'approvers', i];
          if (!(role in roles.roles))
            ctx.addIssue({ code: 'custom', path, message: `role ${role} is not in roles.yaml` });
          else if (!may(role, 'approve'))
            ctx.addIssue({
              code: 'custom',
              path,
              message: `role ${role} may not approve PromotionRequest in roles.yaml`,
            });
        });
      if (!may(policy.signOff.role, 'sign-off'))
        ctx.addIssue({
          code: 'custom',
          path: ['signOff', 'role'],
          message: `role ${policy.signOff.role} may not sign-off PromotionRequest in roles.yaml`,
        });
    });
}

/**
 * policies/promotion.yaml: who must approve, and what must hold, before a version of a model
 * of each risk tier takes traffic. With the roles policy given, every role it names is checked
 * against roles.yaml too, so a policy that names an approver nobody can be fails at start-up.
 */
export function promotionPolicySchema(roles?: RolesPolicy) {
  return policySchema(roles);
}

export type PromotionPolicy = z.output<ReturnType<typeof policySchema>>;

export function tierOf(policy: PromotionPolicy, tier: RiskTier): TierPolicy {
  return policy.tiers[tier];
}
