import { BadInputError } from '../common/errors.js';
import type { PromotionPolicy, TierPolicy } from '../policy/promotion-policy.js';
import type { RiskTier } from '../policy/risk-tiers.js';
import { checkStatement } from '../common/statements.js';
import {
  AB_OUTCOMES,
  CRITERIA,
  type AbOutcome,
  type Criterion,
  type StagedStrategy,
  type Strategy,
} from '../policy/promotion-vocabulary.js';

/**
 * A promotion's rollout plan and its criteria, checked as pure functions against
 * the policy of the model's risk tier and the endpoint's state. Every refusal names the field
 * and says why; what passes is normalized to plain JSON (absent settings are left out), which
 * is what the request digest covers.
 */

export interface CriteriaWindow {
  readonly minRequests: number;
  readonly seconds: number;
}

export interface Threshold {
  readonly value: number;
  readonly window: CriteriaWindow;
}

export type Criteria = { readonly [K in Criterion]?: Threshold };

export type RollbackCriteria = Criteria & { readonly rationale: string };

export interface ShadowPlan {
  /** Share of live requests mirrored to the candidate, (0, 1]. */
  readonly sampleRate: number;
  readonly minRequests: number;
  readonly minDurationSeconds: number;
}

export interface CanaryPlan {
  /** Percent of traffic the candidate answers at each step, increasing, below 100. */
  readonly steps: readonly number[];
  readonly minRequestsPerStep: number;
  readonly bakeSeconds: number;
}

export interface AbTestPlan {
  /** Percent of traffic the candidate answers. */
  readonly splitPercent: number;
  readonly outcome: AbOutcome;
  readonly minSamples: number;
  readonly significanceLevel: number;
}

export interface RolloutPlan {
  readonly shadow?: ShadowPlan;
  readonly canary?: CanaryPlan;
  readonly abTest?: AbTestPlan;
}

/** As GraphQL hands them over: absent members may be null. */
export type CriteriaInput = { readonly [K in Criterion]?: Threshold | null };
export type RollbackCriteriaInput = CriteriaInput & { readonly rationale: string };
export interface RolloutPlanInput {
  readonly shadow?: ShadowPlan | null;
  readonly canary?: CanaryPlan | null;
  readonly abTest?: AbTestPlan | null;
}

export interface PlanInput {
  readonly strategy: Strategy;
  readonly plan?: RolloutPlanInput | null;
  readonly rollbackCriteria?: RollbackCriteriaInput | null;
  readonly successCriteria?: CriteriaInput | null;
}

export interface PlanContext {
  readonly riskTier: RiskTier;
  readonly tier: TierPolicy;
  readonly policy: Pick<PromotionPolicy, 'criteriaWindow' | 'text'>;
  readonly endpoint: string;
  readonly liveVersion: number | null;
  readonly protectedAttributes: readonly string[];
}

export interface CheckedPlan {
  readonly strategy: Strategy;
  readonly plan: RolloutPlan;
  readonly rollbackCriteria: RollbackCriteria;
  readonly successCriteria: Criteria | null;
}

type StageKey = keyof RolloutPlan;

/** The stage settings each strategy uses; any other setting is refused, not ignored. */
export const STAGE_SETTINGS: Record<Strategy, readonly StageKey[]> = {
  INITIAL: [],
  SHADOW_THEN_CANARY: ['shadow', 'canary'],
  CANARY: ['canary'],
  SHADOW: ['shadow'],
  BLUE_GREEN: [],
  AB_TEST: ['abTest'],
};

/** Strategies that mirror live requests to the candidate, so both answer the same request. */
const MIRRORING: readonly Strategy[] = ['SHADOW', 'SHADOW_THEN_CANARY'];

const MAX_STAGE_SECONDS = 30 * 86_400;
const MAX_CANARY_STEPS = 10;

export function checkPromotionPlan(input: PlanInput, ctx: PlanContext): CheckedPlan {
  return { ...checkRolloutPlan(input, ctx), ...checkCriteriaOf(input, ctx) };
}

/** The strategy against the endpoint's state and the policy, and its stage settings. */
export function checkRolloutPlan(
  input: Pick<PlanInput, 'strategy' | 'plan'>,
  ctx: PlanContext,
): { strategy: Strategy; plan: RolloutPlan } {
  const strategy = checkStrategy(input.strategy, ctx);
  return { strategy, plan: checkPlan(strategy, input.plan ?? {}, ctx) };
}

/** Rollback and success criteria: measurable under the strategy, in range, as the policy asks. */
export function checkCriteriaOf(
  input: Omit<PlanInput, 'plan'>,
  ctx: PlanContext,
): { rollbackCriteria: RollbackCriteria; successCriteria: Criteria | null } {
  return {
    rollbackCriteria: checkRollbackCriteria(input.strategy, input.rollbackCriteria, ctx),
    successCriteria: checkSuccessCriteria(input.strategy, input.successCriteria, ctx),
  };
}

export function checkStrategy(strategy: Strategy, ctx: PlanContext): Strategy {
  if (ctx.liveVersion === null) {
    if (strategy !== 'INITIAL')
      throw new BadInputError(
        'strategy',
        `endpoint ${ctx.endpoint} has no live version: its first version goes live with INITIAL`,
      );
    return strategy;
  }
  if (strategy === 'INITIAL')
    throw new BadInputError(
      'strategy',
      `endpoint ${ctx.endpoint} already serves version ${ctx.liveVersion}: INITIAL is only for an endpoint's first version`,
    );
  const allowed: readonly StagedStrategy[] = ctx.tier.strategies;
  if (!(allowed as readonly Strategy[]).includes(strategy))
    throw new BadInputError(
      'strategy',
      allowed.length === 1
        ? `${ctx.riskTier}-risk models must use ${allowed.join('')} once a live version exists`
        : `${ctx.riskTier}-risk models must use one of ${allowed.join(', ')} once a live version exists`,
    );
  return strategy;
}

function checkPlan(strategy: Strategy, input: RolloutPlanInput, ctx: PlanContext): RolloutPlan {
  const used = STAGE_SETTINGS[strategy];
  for (const key of ['shadow', 'canary', 'abTest'] as const) {
    const given = input[key] !== undefined && input[key] !== null;
    if (given && !used.includes(key))
      throw new BadInputError(`plan.${key}`, `is not used by ${strategy}: leave it out`);
    if (!given && used.includes(key))
      throw new BadInputError(`plan.${key}`, `is required by ${strategy}`);
  }
  const plan: { shadow?: ShadowPlan; canary?: CanaryPlan; abTest?: AbTestPlan } = {};
  if (input.shadow) plan.shadow = checkShadow(input.shadow, ctx);
  if (input.canary) plan.canary = checkCanary(input.canary, ctx);
  if (input.abTest) plan.abTest = checkAbTest(input.abTest, ctx);
  return plan;
}

function limitsOf<K extends 'shadow' | 'canary' | 'abTest'>(
  ctx: PlanContext,
  key: K,
): NonNullable<TierPolicy[K]> {
  const limits = ctx.tier[key];
  if (limits === undefined)
    throw new BadInputError(`plan.${key}`, `the ${ctx.riskTier} tier of the policy sets no limits`);
  return limits;
}

function integerIn(field: string, value: number, min: number, max: number, why = ''): number {
  if (!Number.isInteger(value) || value < min || value > max)
    throw new BadInputError(field, `must be an integer from ${min} to ${max}${why}`);
  return value;
}

function checkShadow(s: ShadowPlan, ctx: PlanContext): ShadowPlan {
  const limits = limitsOf(ctx, 'shadow');
  if (!Number.isFinite(s.sampleRate) || s.sampleRate <= 0 || s.sampleRate > 1)
    throw new BadInputError('plan.shadow.sampleRate', 'must be a share above 0 and at most 1');
  return {
    sampleRate: s.sampleRate,
    minRequests: integerIn(
      'plan.shadow.minRequests',
      s.minRequests,
      limits.minRequests,
      1_000_000_000,
      ` (the ${ctx.riskTier} policy minimum is ${limits.minRequests})`,
    ),
    minDurationSeconds: integerIn(
      'plan.shadow.minDurationSeconds',
      s.minDurationSeconds,
      limits.minDuration,
      MAX_STAGE_SECONDS,
      ` (the ${ctx.riskTier} policy minimum is ${limits.minDuration} s)`,
    ),
  };
}

function checkCanary(c: CanaryPlan, ctx: PlanContext): CanaryPlan {
  const limits = limitsOf(ctx, 'canary');
  if (c.steps.length === 0 || c.steps.length > MAX_CANARY_STEPS)
    throw new BadInputError('plan.canary.steps', `must list 1 to ${MAX_CANARY_STEPS} steps`);
  let previous = 0;
  c.steps.forEach((step, i) => {
    const field = `plan.canary.steps[${i}]`;
    integerIn(
      field,
      step,
      1,
      99,
      ': a percent of traffic below 100 (after the last step the candidate goes live)',
    );
    if (step <= previous)
      throw new BadInputError(field, `must be above the previous step (${previous} %)`);
    if (step - previous > limits.maxStepPercent)
      throw new BadInputError(
        field,
        `adds ${step - previous} % of traffic at once; the ${ctx.riskTier} policy allows at most ${limits.maxStepPercent} % per step`,
      );
    previous = step;
  });
  return {
    steps: [...c.steps],
    minRequestsPerStep: integerIn(
      'plan.canary.minRequestsPerStep',
      c.minRequestsPerStep,
      limits.minRequestsPerStep,
      1_000_000_000,
      ` (the ${ctx.riskTier} policy minimum is ${limits.minRequestsPerStep})`,
    ),
    bakeSeconds: integerIn(
      'plan.canary.bakeSeconds',
      c.bakeSeconds,
      limits.minBake,
      MAX_STAGE_SECONDS,
      ` (the ${ctx.riskTier} policy minimum bake time is ${limits.minBake} s)`,
    ),
  };
}

function checkAbTest(a: AbTestPlan, ctx: PlanContext): AbTestPlan {
  const limits = limitsOf(ctx, 'abTest');
  if (!AB_OUTCOMES.includes(a.outcome))
    throw new BadInputError('plan.abTest.outcome', `must be one of ${AB_OUTCOMES.join(', ')}`);
  if (
    !Number.isFinite(a.significanceLevel) ||
    a.significanceLevel <= 0 ||
    a.significanceLevel > limits.maxSignificanceLevel
  )
    throw new BadInputError(
      'plan.abTest.significanceLevel',
      `must be above 0 and at most ${limits.maxSignificanceLevel} (the ${ctx.riskTier} policy)`,
    );
  return {
    splitPercent: integerIn('plan.abTest.splitPercent', a.splitPercent, 1, 99),
    outcome: a.outcome,
    minSamples: integerIn(
      'plan.abTest.minSamples',
      a.minSamples,
      limits.minSamples,
      1_000_000_000,
      ` (the ${ctx.riskTier} policy minimum is ${limits.minSamples})`,
    ),
    significanceLevel: a.significanceLevel,
  };
}

interface Range {
  readonly ok: (v: number) => boolean;
  readonly says: string;
}

const RANGES: Record<Criterion, Range> = {
  maxErrorRate: { ok: (v) => v >= 0 && v < 1, says: 'a share of requests from 0 to below 1' },
  maxP99LatencyMs: {
    ok: (v) => v > 0 && v <= 600_000,
    says: 'milliseconds above 0, at most 600000',
  },
  minAgreementWithLive: { ok: (v) => v > 0 && v <= 1, says: 'a share above 0 and at most 1' },
  maxPsiDrift: { ok: (v) => v > 0 && v <= 10, says: 'a PSI above 0 and at most 10' },
  minAccuracy: { ok: (v) => v > 0 && v <= 1, says: 'a share above 0 and at most 1' },
  minAuc: { ok: (v) => v > 0 && v <= 1, says: 'an AUC above 0 and at most 1' },
  minDisparateImpact: { ok: (v) => v > 0 && v <= 1, says: 'a ratio above 0 and at most 1' },
};

/**
 * Why a criterion cannot be measured under a strategy, or null when it can. Agreement needs
 * both versions' outputs for the same request, which only mirroring gives; disparate impact on
 * traffic needs groups to compare.
 */
export function unmeasurable(
  criterion: Criterion,
  strategy: Strategy,
  ctx: Pick<PlanContext, 'protectedAttributes'>,
): string | null {
  switch (criterion) {
    case 'minAgreementWithLive':
      if (strategy === 'INITIAL')
        return 'cannot be measured under INITIAL: there is no live version to agree with';
      return MIRRORING.includes(strategy)
        ? null
        : `cannot be measured under ${strategy}: agreement needs the live and the candidate output for the same request, and only ${MIRRORING.join(' and ')} mirror requests`;
    case 'minDisparateImpact':
      return ctx.protectedAttributes.length === 0
        ? 'cannot be measured: the model names no protected attributes to group traffic by'
        : null;
    case 'maxErrorRate':
    case 'maxP99LatencyMs':
    case 'maxPsiDrift':
    case 'minAccuracy':
    case 'minAuc':
      return null;
  }
}

function checkCriteria(
  field: string,
  input: CriteriaInput,
  strategy: Strategy,
  ctx: PlanContext,
): Criteria {
  const out: { [K in Criterion]?: Threshold } = {};
  const window = ctx.policy.criteriaWindow;
  for (const criterion of CRITERIA) {
    const t = input[criterion];
    if (t === undefined || t === null) continue;
    const at = `${field}.${criterion}`;
    const reason = unmeasurable(criterion, strategy, ctx);
    if (reason !== null) throw new BadInputError(at, reason);
    const range = RANGES[criterion];
    if (!Number.isFinite(t.value) || !range.ok(t.value))
      throw new BadInputError(`${at}.value`, `must be ${range.says}`);
    out[criterion] = {
      value: t.value,
      window: {
        minRequests: integerIn(
          `${at}.window.minRequests`,
          t.window.minRequests,
          window.minRequests,
          1_000_000_000,
          ' (policy criteriaWindow.minRequests)',
        ),
        seconds: integerIn(
          `${at}.window.seconds`,
          t.window.seconds,
          window.minDuration,
          window.maxDuration,
          ' (policy criteriaWindow)',
        ),
      },
    };
  }
  return out;
}

function checkRollbackCriteria(
  strategy: Strategy,
  input: RollbackCriteriaInput | null | undefined,
  ctx: PlanContext,
): RollbackCriteria {
  if (input === undefined || input === null)
    throw new BadInputError(
      'rollbackCriteria',
      'are required: machine-checkable thresholds and the rationale for them',
    );
  const criteria = checkCriteria('rollbackCriteria', input, strategy, ctx);
  const named = Object.keys(criteria);
  if (named.length === 0)
    throw new BadInputError(
      'rollbackCriteria',
      `name at least one threshold (${CRITERIA.join(', ')}): a rollback nobody can trigger protects no one`,
    );
  const missing = ctx.tier.requiredCriteria.filter((c) => !named.includes(c));
  if (missing.length > 0)
    throw new BadInputError(
      'rollbackCriteria',
      `the ${ctx.riskTier} policy requires ${missing.join(', ')}`,
    );
  const rationale = checkStatement(
    'rollbackCriteria.rationale',
    input.rationale,
    ctx.policy.text.minRationaleLength,
  );
  return { ...criteria, rationale };
}

function checkSuccessCriteria(
  strategy: Strategy,
  input: CriteriaInput | null | undefined,
  ctx: PlanContext,
): Criteria | null {
  if (input === undefined || input === null) return null;
  if (!CRITERIA.some((c) => input[c] !== undefined && input[c] !== null)) return null;
  if (strategy === 'INITIAL')
    throw new BadInputError(
      'successCriteria',
      'INITIAL has no stage to pass: the version goes live once the gates pass',
    );
  return checkCriteria('successCriteria', input, strategy, ctx);
}
