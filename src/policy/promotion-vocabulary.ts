/**
 * The fixed vocabulary of promotions: strategies, rollback criteria and the
 * evaluation figures a candidate is compared on. policies/promotion.yaml may only use these
 * names; anything else stops the service at start-up with the line named.
 */

/** `INITIAL` is the first version of an endpoint: gates and approvals, then live. */
export const STRATEGIES = [
  'INITIAL',
  'SHADOW_THEN_CANARY',
  'CANARY',
  'SHADOW',
  'BLUE_GREEN',
  'AB_TEST',
] as const;
export type Strategy = (typeof STRATEGIES)[number];

/** The strategies that replace a live version; the policy chooses among these per tier. */
export const STAGED_STRATEGIES = [
  'SHADOW_THEN_CANARY',
  'CANARY',
  'SHADOW',
  'BLUE_GREEN',
  'AB_TEST',
] as const satisfies readonly Strategy[];
export type StagedStrategy = (typeof STAGED_STRATEGIES)[number];

/** Machine-checkable thresholds a rollout is judged by; `max*` are ceilings, `min*` floors. */
export const CRITERIA = [
  'maxErrorRate',
  'maxP99LatencyMs',
  'minAgreementWithLive',
  'maxPsiDrift',
  'minAccuracy',
  'minAuc',
  'minDisparateImpact',
] as const;
export type Criterion = (typeof CRITERIA)[number];

/** What an A/B test compares between the two versions. */
export const AB_OUTCOMES = ['ACCURACY', 'AUC', 'ERROR_RATE', 'P99_LATENCY'] as const;
export type AbOutcome = (typeof AB_OUTCOMES)[number];

/**
 * Evaluation figures a candidate may be compared with the live version on, and which way is
 * better. Classification figures are in `result.classification.performance`, regression ones
 * in `result.regression`.
 */
export const METRIC_DIRECTIONS = {
  accuracy: 'higher',
  precision: 'higher',
  recall: 'higher',
  f1: 'higher',
  rocAuc: 'higher',
  logLoss: 'lower',
  brierScore: 'lower',
  rmse: 'lower',
  mae: 'lower',
  r2: 'higher',
} as const;
export type ComparedMetric = keyof typeof METRIC_DIRECTIONS;
export const COMPARED_METRICS = Object.keys(METRIC_DIRECTIONS) as [
  ComparedMetric,
  ...ComparedMetric[],
];

/** Fairness headline figures the policy can set a threshold on, with the threshold's sense. */
export const FAIRNESS_THRESHOLDS = {
  minDisparateImpact: { figure: 'disparateImpact', sense: 'min' },
  maxEqualizedOddsDifference: { figure: 'equalizedOddsDifference', sense: 'max' },
  maxDemographicParityDifference: { figure: 'demographicParityDifference', sense: 'max' },
  maxEqualOpportunityDifference: { figure: 'equalOpportunityDifference', sense: 'max' },
} as const;
export type FairnessThreshold = keyof typeof FAIRNESS_THRESHOLDS;
