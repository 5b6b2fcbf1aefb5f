import { DomainError } from '../common/errors.js';
import type { EvaluationFigures } from '../evaluation/evaluation-compute.js';
import type { AttributeFairness } from '../evaluation/metrics/index.js';
import type { PromotionPolicy, TierPolicy } from '../policy/promotion-policy.js';
import type { ModelCard } from '../registry/model.entity.js';
import type { RiskTier } from '../policy/risk-tiers.js';
import {
  checkCriteriaOf,
  checkRolloutPlan,
  type Criteria,
  type PlanContext,
  type RollbackCriteria,
  type RolloutPlan,
} from './rollout-plan.js';
import { missingRoles } from './separation-of-duties.js';
import {
  FAIRNESS_THRESHOLDS,
  METRIC_DIRECTIONS,
  type ComparedMetric,
  type FairnessThreshold,
  type Strategy,
} from '../policy/promotion-vocabulary.js';

/**
 * The gates a promotion must pass before any traffic moves, as pure functions
 * of facts the gate service gathers. Each gate gives a verdict, a one-line summary a person
 * can act on, and its evidence: plain JSON whose RFC 8785 digest is ledgered, so what a gate
 * saw can be shown later exactly as it was.
 */

export const GATES = [
  'APPROVALS',
  'FAIRNESS',
  'PERFORMANCE',
  'ROLLBACK_CRITERIA',
  'ROLLOUT_PLAN',
  'MODEL_CARD',
  'ARTIFACT_INTEGRITY',
  'EVALUATION_FRESH',
] as const;
export type Gate = (typeof GATES)[number];

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

export interface GateResult {
  readonly gate: Gate;
  readonly passed: boolean;
  readonly summary: string;
  readonly evidence: { [key: string]: Json };
}

/** An evaluation's stored result: the figures and what they were computed from. */
export type StoredResult = Pick<EvaluationFigures, 'classification' | 'regression'> & {
  readonly artifactSha256: string;
  readonly dataset: { readonly id: string; readonly name: string; readonly sha256: string };
};

export interface EvaluationFacts {
  readonly id: string;
  readonly modelVersionId: string;
  readonly status: string;
  readonly finishedAt: Date | null;
  readonly resultSha256: string | null;
  /** SHA-256 of the RFC 8785 form of the stored result, recomputed now. */
  readonly recomputedSha256: string | null;
  readonly result: StoredResult | null;
}

export interface ApprovalFact {
  readonly role: string;
  readonly approver: string;
  readonly requestDigest: string;
  readonly statement: string | null;
  readonly approvedAt: Date;
}

export interface GateFacts {
  readonly now: Date;
  readonly riskTier: RiskTier;
  readonly tier: TierPolicy;
  readonly policy: PromotionPolicy;
  readonly request: {
    readonly id: string;
    readonly requestDigest: string;
    /** SHA-256 of the stored request content, recomputed now. */
    readonly recomputedDigest: string;
    readonly requestedBy: string;
    /** The roles that must each approve: the request's own list, as its status was decided on. */
    readonly requiredRoles: readonly string[];
    readonly strategy: Strategy;
    readonly plan: RolloutPlan;
    readonly rollbackCriteria: RollbackCriteria;
    readonly successCriteria: Criteria | null;
    readonly evaluationResultSha256: string;
  };
  readonly endpoint: { readonly name: string; readonly liveVersion: number | null };
  readonly model: {
    readonly name: string;
    readonly owner: string;
    readonly protectedAttributes: readonly string[];
    readonly modelCard: ModelCard;
  };
  readonly version: {
    readonly id: string;
    readonly version: number;
    readonly artifactSha256: string;
  };
  readonly approvals: readonly ApprovalFact[];
  readonly evaluation: EvaluationFacts;
  /** Null when the endpoint has no live version (or the candidate is the live one). */
  readonly live: {
    readonly version: number;
    /** Its latest successful evaluation, preferring the candidate's dataset; null if none. */
    readonly evaluation: EvaluationFacts | null;
  } | null;
  /** The artifact's bytes re-hashed now. */
  readonly artifact: { readonly intact: boolean; readonly problem: string | null };
}

export function evaluateGates(f: GateFacts): GateResult[] {
  return [
    approvalsGate(f),
    fairnessGate(f),
    performanceGate(f),
    rollbackCriteriaGate(f),
    rolloutPlanGate(f),
    modelCardGate(f),
    artifactGate(f),
    evaluationGate(f),
  ];
}

const fixed = (v: number | null): string => (v === null ? 'none' : v.toFixed(3));

function result(
  gate: Gate,
  problems: readonly string[],
  passedSummary: string,
  evidence: { [key: string]: Json },
): GateResult {
  return {
    gate,
    passed: problems.length === 0,
    summary: problems.length === 0 ? passedSummary : problems.join('; '),
    evidence,
  };
}

export function approvalsGate(f: GateFacts): GateResult {
  const required = f.request.requiredRoles;
  const problems: string[] = [];
  if (f.request.recomputedDigest !== f.request.requestDigest)
    problems.push(
      `the stored request no longer hashes to its digest ${f.request.requestDigest} (now ${f.request.recomputedDigest})`,
    );
  const valid = f.approvals.filter(
    (a) =>
      a.requestDigest === f.request.requestDigest &&
      a.approver !== f.request.requestedBy &&
      required.includes(a.role),
  );
  const approvers = new Set<string>();
  for (const a of valid) {
    if (approvers.has(a.approver)) problems.push(`${a.approver} approved in more than one role`);
    approvers.add(a.approver);
  }
  const stale = f.approvals.filter((a) => a.requestDigest !== f.request.requestDigest);
  if (stale.length > 0)
    problems.push(
      `approvals of another digest do not count: ${stale.map((a) => a.role).join(', ')}`,
    );
  const signOff = valid.find((a) => a.role === f.policy.signOff.role);
  if (signOff && (signOff.statement ?? '').trim() === '')
    problems.push(`the ${f.policy.signOff.role} sign-off has no statement`);
  const missing = missingRoles(required, valid);
  if (missing.length > 0) problems.push(`missing approval of ${missing.join(', ')}`);
  return result(
    'APPROVALS',
    problems,
    `approved by ${valid.map((a) => `${a.approver} (${a.role})`).join(', ')}`,
    {
      requiredRoles: [...required],
      requestDigest: f.request.requestDigest,
      contentIntact: f.request.recomputedDigest === f.request.requestDigest,
      requestedBy: f.request.requestedBy,
      approvals: f.approvals.map((a) => ({
        role: a.role,
        approver: a.approver,
        requestDigest: a.requestDigest,
        approvedAt: a.approvedAt.toISOString(),
        statement: a.statement,
      })),
      missingRoles: missing,
    },
  );
}

interface SelectionExtreme {
  readonly group: string;
  readonly selectionRate: number;
  readonly count: number;
}

function extremes(
  a: AttributeFairness,
): { lowest: SelectionExtreme; highest: SelectionExtreme } | null {
  const compared = a.groups.filter((g) => !g.belowMinimumSize);
  if (compared.length === 0) return null;
  const pick = (g: (typeof compared)[number]): SelectionExtreme => ({
    group: g.group,
    selectionRate: g.selectionRate,
    count: g.count,
  });
  let low = compared[0];
  let high = compared[0];
  for (const g of compared) {
    if (low === undefined || g.selectionRate < low.selectionRate) low = g;
    if (high === undefined || g.selectionRate > high.selectionRate) high = g;
  }
  return low && high ? { lowest: pick(low), highest: pick(high) } : null;
}

const FIGURE_WORDS: Record<FairnessThreshold, string> = {
  minDisparateImpact: 'disparate impact',
  maxEqualizedOddsDifference: 'equalized odds difference',
  maxDemographicParityDifference: 'demographic parity difference',
  maxEqualOpportunityDifference: 'equal opportunity difference',
};

export function fairnessGate(f: GateFacts): GateResult {
  const policy = f.tier.fairness;
  const thresholds = (Object.keys(FAIRNESS_THRESHOLDS) as FairnessThreshold[]).filter(
    (t) => policy[t] !== undefined,
  );
  const thresholdEvidence: { [key: string]: Json } = {};
  for (const t of thresholds) thresholdEvidence[t] = policy[t] ?? null;
  const base = {
    evaluationId: f.evaluation.id,
    minGroupSize: policy.minGroupSize,
    thresholds: thresholdEvidence,
  };
  const classification = f.evaluation.result?.classification ?? null;
  if (classification === null) {
    const problems =
      thresholds.length === 0
        ? []
        : [
            f.evaluation.result === null
              ? 'the evaluation has no result'
              : 'the evaluation has no fairness figures (a regression model): the policy thresholds cannot be checked',
          ];
    return result('FAIRNESS', problems, 'no fairness thresholds apply', {
      ...base,
      attributes: [],
    });
  }
  const problems: string[] = [];
  const audited = new Set(classification.fairness.map((a) => a.attribute));
  for (const attribute of f.model.protectedAttributes)
    if (!audited.has(attribute))
      problems.push(
        `${attribute}: a protected attribute of the model the evaluation did not audit`,
      );
  const attributes = classification.fairness.map((a) => {
    const failures: string[] = [];
    if (a.minGroupSize < policy.minGroupSize)
      failures.push(
        `computed with groups of ${a.minGroupSize} rows; the policy needs at least ${policy.minGroupSize}`,
      );
    if (a.comparedGroups.length < 2)
      failures.push(
        `fewer than two groups of at least ${a.minGroupSize} rows: nothing was compared`,
      );
    const figures: { [key: string]: Json } = {};
    for (const t of thresholds) {
      const { figure, sense } = FAIRNESS_THRESHOLDS[t];
      const value = a[figure];
      const limit = policy[t] ?? 0;
      figures[figure] = value;
      if (value === null) failures.push(`${FIGURE_WORDS[t]} could not be computed`);
      else if (sense === 'min' ? value < limit : value > limit)
        failures.push(
          `${FIGURE_WORDS[t]} ${fixed(value)} ${sense === 'min' ? 'below' : 'above'} ${limit}`,
        );
    }
    const ends = extremes(a);
    const small = a.groups.filter((g) => g.belowMinimumSize).map((g) => g.group);
    return { attribute: a.attribute, failures, figures, ends, small, compared: a.comparedGroups };
  });
  for (const a of attributes)
    if (a.failures.length > 0)
      problems.push(
        `${a.attribute}: ${a.failures.join(', ')}${
          a.ends
            ? ` (lowest selection rate: ${a.ends.lowest.group} ${fixed(a.ends.lowest.selectionRate)}, highest: ${a.ends.highest.group} ${fixed(a.ends.highest.selectionRate)})`
            : ''
        }`,
      );
  return result(
    'FAIRNESS',
    problems,
    `${attributes.map((a) => a.attribute).join(', ') || 'no attribute'} within the thresholds`,
    {
      ...base,
      attributes: attributes.map((a) => ({
        attribute: a.attribute,
        passed: a.failures.length === 0,
        failures: a.failures,
        figures: a.figures,
        comparedGroups: [...a.compared],
        smallGroups: a.small,
        lowestSelectionRate: a.ends ? { ...a.ends.lowest } : null,
        highestSelectionRate: a.ends ? { ...a.ends.highest } : null,
      })),
    },
  );
}

export function metricOf(result: StoredResult | null, metric: ComparedMetric): number | null {
  if (result === null) return null;
  const c = result.classification;
  if (c !== null && metric in c.performance)
    return (c.performance as unknown as Record<string, number | null>)[metric] ?? null;
  const r = result.regression;
  if (r !== null && metric in r)
    return (r as unknown as Record<string, number | null>)[metric] ?? null;
  return null;
}

/** Absolute slack for rounding in the comparison; far below any meaningful margin. */
const EPSILON = 1e-12;

export function performanceGate(f: GateFacts): GateResult {
  const { metrics, maxDegradation } = f.tier.performance;
  const candidate = f.evaluation.result;
  const base = {
    margin: maxDegradation,
    candidate: {
      version: f.version.version,
      evaluationId: f.evaluation.id,
      datasetSha256: candidate?.dataset.sha256 ?? null,
    },
  };
  if (f.live === null)
    return result('PERFORMANCE', [], 'no live version to compare with', {
      ...base,
      live: null,
      comparisons: [],
    });
  const liveEval = f.live.evaluation;
  if (liveEval?.result == null)
    return result(
      'PERFORMANCE',
      [
        `live version ${f.live.version} has no successful evaluation to compare with: evaluate it on the candidate's dataset`,
      ],
      '',
      { ...base, live: { version: f.live.version, evaluationId: null }, comparisons: [] },
    );
  const sameDataset = liveEval.result.dataset.sha256 === candidate?.dataset.sha256;
  const problems: string[] = [];
  const comparisons = metrics.map((metric) => {
    const c = metricOf(candidate, metric);
    const l = metricOf(liveEval.result, metric);
    if (c === null || l === null)
      return { metric, candidate: c, live: l, change: null, passed: null as boolean | null };
    // Positive change is better, whichever way the metric points.
    const change = METRIC_DIRECTIONS[metric] === 'higher' ? c - l : l - c;
    const passed = change >= -maxDegradation - EPSILON;
    if (!passed)
      problems.push(
        `${metric} ${fixed(c)} against live ${fixed(l)}: worse by ${fixed(-change)}, more than the margin ${maxDegradation}`,
      );
    return { metric, candidate: c, live: l, change, passed: passed as boolean | null };
  });
  if (comparisons.every((c) => c.passed === null))
    problems.push(`none of ${metrics.join(', ')} exists in both evaluations`);
  const note = sameDataset
    ? 'same dataset'
    : `different datasets: the live version has no successful evaluation on ${candidate?.dataset.name ?? 'the candidate dataset'}`;
  return result(
    'PERFORMANCE',
    problems,
    `not worse than live version ${f.live.version} beyond ${maxDegradation} (${note})`,
    {
      ...base,
      live: {
        version: f.live.version,
        evaluationId: liveEval.id,
        datasetSha256: liveEval.result.dataset.sha256,
      },
      sameDataset,
      comparisons,
    },
  );
}

function planContext(f: GateFacts): PlanContext {
  return {
    riskTier: f.riskTier,
    tier: f.tier,
    policy: f.policy,
    endpoint: f.endpoint.name,
    liveVersion: f.endpoint.liveVersion,
    protectedAttributes: f.model.protectedAttributes,
  };
}

/** Re-checks a part of the request under today's policy and endpoint state. */
function recheck(check: () => unknown): string | null {
  try {
    check();
    return null;
  } catch (error) {
    if (error instanceof DomainError) return error.message;
    throw error;
  }
}

export function rollbackCriteriaGate(f: GateFacts): GateResult {
  const { rationale, ...thresholds } = f.request.rollbackCriteria;
  const problem = recheck(() =>
    checkCriteriaOf(
      {
        strategy: f.request.strategy,
        rollbackCriteria: f.request.rollbackCriteria,
        successCriteria: f.request.successCriteria,
      },
      planContext(f),
    ),
  );
  return result(
    'ROLLBACK_CRITERIA',
    problem === null ? [] : [problem],
    `${Object.keys(thresholds).join(', ')} with a written rationale`,
    {
      criteria: Object.keys(thresholds),
      rationaleLength: rationale.length,
      successCriteria: f.request.successCriteria ? Object.keys(f.request.successCriteria) : [],
      problem,
    },
  );
}

export function rolloutPlanGate(f: GateFacts): GateResult {
  const problem = recheck(() =>
    checkRolloutPlan({ strategy: f.request.strategy, plan: f.request.plan }, planContext(f)),
  );
  return result(
    'ROLLOUT_PLAN',
    problem === null ? [] : [problem],
    `${f.request.strategy} is allowed for a ${f.riskTier}-risk model ${
      f.endpoint.liveVersion === null
        ? 'with no live version'
        : `replacing version ${f.endpoint.liveVersion}`
    }`,
    {
      strategy: f.request.strategy,
      liveVersion: f.endpoint.liveVersion,
      allowedOnceLive: [...f.tier.strategies],
      problem,
    },
  );
}

const CARD_TEXT = ['intendedUse', 'limitations', 'trainingData', 'ethicalConsiderations'] as const;

/** What the policy finds missing in a model's card, by the member at fault. */
export function modelCardProblems(
  model: GateFacts['model'],
  policy: Pick<PromotionPolicy, 'modelCard'>,
  tier: TierPolicy,
): { readonly field: string; readonly problem: string }[] {
  const min = policy.modelCard.minFieldLength;
  const problems: { field: string; problem: string }[] = [];
  for (const field of CARD_TEXT) {
    const length = model.modelCard[field].trim().length;
    if (length < min)
      problems.push({
        field: `modelCard.${field}`,
        problem: `${field} has ${length} characters, the policy asks ${min}`,
      });
  }
  if (model.modelCard.outOfScopeUses.every((u) => u.trim() === ''))
    problems.push({ field: 'modelCard.outOfScopeUses', problem: 'no out-of-scope use is named' });
  if (model.owner.trim() === '') problems.push({ field: 'owner', problem: 'no owner' });
  const thresholds = Object.keys(FAIRNESS_THRESHOLDS).some(
    (t) => tier.fairness[t as FairnessThreshold] !== undefined,
  );
  if (thresholds && model.protectedAttributes.length === 0)
    problems.push({
      field: 'protectedAttributes',
      problem: 'no protected attributes, though the policy sets fairness thresholds',
    });
  return problems;
}

export function modelCardGate(f: GateFacts): GateResult {
  const card = f.model.modelCard;
  const lengths: { [key: string]: Json } = {};
  for (const field of CARD_TEXT) lengths[field] = card[field].trim().length;
  const problems = modelCardProblems(f.model, f.policy, f.tier).map((p) => p.problem);
  return result('MODEL_CARD', problems, `model card of ${f.model.name} is complete`, {
    model: f.model.name,
    owner: f.model.owner,
    minFieldLength: f.policy.modelCard.minFieldLength,
    fieldLengths: lengths,
    outOfScopeUses: card.outOfScopeUses.filter((u) => u.trim() !== '').length,
    protectedAttributes: [...f.model.protectedAttributes],
  });
}

export function artifactGate(f: GateFacts): GateResult {
  const evaluated = f.evaluation.result?.artifactSha256 ?? null;
  const problems: string[] = [];
  if (!f.artifact.intact)
    problems.push(
      `the stored artifact does not match ${f.version.artifactSha256}: ${f.artifact.problem ?? 'unreadable'}`,
    );
  if (evaluated !== f.version.artifactSha256)
    problems.push(
      `the evaluation ran artifact ${evaluated ?? 'none'}, not ${f.version.artifactSha256}`,
    );
  return result(
    'ARTIFACT_INTEGRITY',
    problems,
    `artifact ${f.version.artifactSha256} re-hashed and intact`,
    {
      artifactSha256: f.version.artifactSha256,
      rehashedIntact: f.artifact.intact,
      evaluatedArtifactSha256: evaluated,
    },
  );
}

export function evaluationGate(f: GateFacts): GateResult {
  const e = f.evaluation;
  const maxAge = f.tier.maxEvaluationAge;
  const age =
    e.finishedAt === null ? null : Math.floor((f.now.getTime() - e.finishedAt.getTime()) / 1000);
  const problems: string[] = [];
  if (e.modelVersionId !== f.version.id) problems.push(`evaluation ${e.id} is of another version`);
  if (e.status !== 'SUCCEEDED') problems.push(`evaluation ${e.id} is ${e.status}`);
  if (age !== null && age > maxAge)
    problems.push(`evaluation finished ${age} s ago; the ${f.riskTier} policy allows ${maxAge} s`);
  if (e.resultSha256 !== f.request.evaluationResultSha256)
    problems.push(`the evaluation's result digest is not the one the request names`);
  if (e.recomputedSha256 !== e.resultSha256)
    problems.push(`the stored result no longer hashes to its recorded digest`);
  return result(
    'EVALUATION_FRESH',
    problems,
    `evaluation ${e.id} of version ${f.version.version} succeeded ${age ?? 0} s ago`,
    {
      evaluationId: e.id,
      status: e.status,
      finishedAt: e.finishedAt === null ? null : e.finishedAt.toISOString(),
      ageSeconds: age,
      maxAgeSeconds: maxAge,
      resultSha256: e.resultSha256,
      recomputedSha256: e.recomputedSha256,
      requestedResultSha256: f.request.evaluationResultSha256,
    },
  );
}
