/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
/** What an A/B test compares between the two versions. */
export type AbTestOutcome =
  | 'ACCURACY'
  | 'AUC'
  | 'ERROR_RATE'
  | 'P99_LATENCY';

export type AbTestPlanInput = {
  minSamples: number;
  outcome: AbTestOutcome;
  significanceLevel: number;
  /** Percent of traffic the candidate answers. */
  splitPercent: number;
};

export type BootstrapInput = {
  /** Default from policies/evaluation.yaml. */
  resamples?: number | null | undefined;
  /** Recorded with the result: the same seed, the same intervals. */
  seed: number;
};

export type CanaryPlanInput = {
  /** How long each step is held. */
  bakeSeconds: number;
  minRequestsPerStep: number;
  /** Percent of traffic at each step, e.g. [5, 25, 50]. */
  steps: Array<number>;
};

export type CriteriaWindowInput = {
  minRequests: number;
  seconds: number;
};

export type Gate =
  | 'APPROVALS'
  | 'ARTIFACT_INTEGRITY'
  | 'EVALUATION_FRESH'
  | 'FAIRNESS'
  | 'MODEL_CARD'
  | 'PERFORMANCE'
  | 'ROLLBACK_CRITERIA'
  | 'ROLLOUT_PLAN';

export type GatePurpose =
  | 'REVIEW'
  | 'ROLLOUT_START';

export type ModelCardInput = {
  ethicalConsiderations: string;
  intendedUse: string;
  limitations: string;
  outOfScopeUses: Array<string>;
  trainingData: string;
};

/** What an endpoint does when the prediction log can take no more (the database away and the spool full): BEST_EFFORT answers and counts the prediction dropped; REQUIRED refuses the request (503) rather than serve a prediction that is not logged. REQUIRED for every endpoint of a HIGH-tier model. */
export type PredictionLogPolicy =
  | 'BEST_EFFORT'
  | 'REQUIRED';

/** PENDING until every required role approved, APPROVED until its rollout starts, then ROLLING_OUT and COMPLETED or ROLLED_BACK; REJECTED and WITHDRAWN end a request early. */
export type PromotionStatus =
  | 'APPROVED'
  | 'COMPLETED'
  | 'PENDING'
  | 'REJECTED'
  | 'ROLLED_BACK'
  | 'ROLLING_OUT'
  | 'WITHDRAWN';

/** INITIAL: the first version of an endpoint (gates and approvals, then live). The others replace a live version in stages. */
export type PromotionStrategy =
  | 'AB_TEST'
  | 'BLUE_GREEN'
  | 'CANARY'
  | 'INITIAL'
  | 'SHADOW'
  | 'SHADOW_THEN_CANARY';

export type RegisterModelInput = {
  modelCard: ModelCardInput;
  /** A slug: lowercase letters, digits and single hyphens. */
  name: string;
  /** The accountable team or person. */
  owner: string;
  protectedAttributes: Array<string>;
  riskTier: RiskTier;
};

export type RegisterModelVersionInput = {
  /** SHA-256 of an artifact uploaded with PUT /v1/artifacts. */
  artifactSha256: string;
  description?: string | null | undefined;
  featureColumns: Array<string>;
  /** Default: the model’s only input. */
  inputName?: string | null | undefined;
  /** Where the version came from: at most 32 keys (a lowercase letter, then lowercase letters, digits, `.`, `_` or `-`; up to 64 characters), each with a string of at most 2048 characters. */
  metadata?: Record<string, unknown> | null | undefined;
  /** The model name. */
  model: string;
  parentVersion?: number | null | undefined;
  /** Default 0. */
  scoreIndex?: number | null | undefined;
  /** Default: an output named `score`, else the only output. */
  scoreOutput?: string | null | undefined;
  task: Task;
  /** Binary classification: default 0.5. Not allowed for regression. */
  threshold?: number | null | undefined;
  trainingMetrics?: Record<string, unknown> | null | undefined;
};

/** JSON is the signed, machine-verifiable report; PDF and CSV are rendered from it. Any of the three can be fetched whatever was asked for. */
export type ReportFormat =
  | 'CSV'
  | 'JSON'
  | 'PDF';

/** How much harm a wrong decision can do; HIGH needs the strictest promotion. */
export type RiskTier =
  | 'HIGH'
  | 'LOW'
  | 'MEDIUM';

export type RollbackCriteriaInput = {
  /** Share of requests the candidate fails. */
  maxErrorRate?: ThresholdInput | null | undefined;
  /** Milliseconds. */
  maxP99LatencyMs?: ThresholdInput | null | undefined;
  /** PSI of the score against the evaluation baseline. */
  maxPsiDrift?: ThresholdInput | null | undefined;
  /** On labelled feedback. */
  minAccuracy?: ThresholdInput | null | undefined;
  /** Share of mirrored requests on which candidate and live decide alike. */
  minAgreementWithLive?: ThresholdInput | null | undefined;
  /** ROC-AUC on labelled feedback. */
  minAuc?: ThresholdInput | null | undefined;
  /** On labelled or attributed traffic, per protected attribute. */
  minDisparateImpact?: ThresholdInput | null | undefined;
  /** Why these thresholds: required, written out. */
  rationale: string;
};

export type RolloutPlanInput = {
  abTest?: AbTestPlanInput | null | undefined;
  canary?: CanaryPlanInput | null | undefined;
  shadow?: ShadowPlanInput | null | undefined;
};

/** LIVE is the last stage of every rollout but an A/B test: the candidate becomes the live version. */
export type RolloutStageKind =
  | 'AB_TEST'
  | 'BLUE_GREEN'
  | 'CANARY'
  | 'LIVE'
  | 'SHADOW';

export type RolloutStageStatus =
  | 'FAILED'
  | 'IN_PROGRESS'
  | 'PASSED'
  | 'PENDING';

export type RolloutStatus =
  | 'COMPLETED'
  | 'FAILED'
  | 'PAUSED'
  | 'ROLLED_BACK'
  | 'RUNNING';

export type ShadowPlanInput = {
  minDurationSeconds: number;
  minRequests: number;
  /** Share of live requests mirrored, (0, 1]. */
  sampleRate: number;
};

export type SuccessCriteriaInput = {
  /** Share of requests the candidate fails. */
  maxErrorRate?: ThresholdInput | null | undefined;
  /** Milliseconds. */
  maxP99LatencyMs?: ThresholdInput | null | undefined;
  /** PSI of the score against the evaluation baseline. */
  maxPsiDrift?: ThresholdInput | null | undefined;
  /** On labelled feedback. */
  minAccuracy?: ThresholdInput | null | undefined;
  /** Share of mirrored requests on which candidate and live decide alike. */
  minAgreementWithLive?: ThresholdInput | null | undefined;
  /** ROC-AUC on labelled feedback. */
  minAuc?: ThresholdInput | null | undefined;
  /** On labelled or attributed traffic, per protected attribute. */
  minDisparateImpact?: ThresholdInput | null | undefined;
};

export type Task =
  | 'BINARY_CLASSIFICATION'
  | 'REGRESSION';

export type ThresholdInput = {
  value: number;
  window: CriteriaWindowInput;
};

/** How a candidate version takes traffic: NONE, SHADOW (mirrored, never answers), or a weighted split by routing key. */
export type TrafficMode =
  | 'AB_TEST'
  | 'BLUE_GREEN'
  | 'CANARY'
  | 'NONE'
  | 'SHADOW';

export type PromotionStatusQueryVariables = Exact<{
  id: string | number;
}>;


export type PromotionStatusQuery = { promotionRequest: { id: string, status: PromotionStatus, model: string, version: number, endpoint: string, strategy: PromotionStrategy, requiredRoles: Array<string>, missingRoles: Array<string>, closeReason: string | null, closedBy: string | null, closedAt: string | null, approvals: Array<{ role: string, approver: string, approvedAt: string }>, rollout: { id: string, status: RolloutStatus } | null } | null };

export type StartRolloutMutationVariables = Exact<{
  promotionId: string | number;
}>;


export type StartRolloutMutation = { startRollout: { id: string, status: RolloutStatus, endpoint: string, candidateVersion: number } };

export type WithdrawPromotionMutationVariables = Exact<{
  id: string | number;
}>;


export type WithdrawPromotionMutation = { withdrawPromotion: { id: string, status: PromotionStatus } };

export type ReleasePoliciesQueryVariables = Exact<{ [key: string]: never; }>;


export type ReleasePoliciesQuery = { me: { sub: string, roles: Array<string>, abilities: Array<{ action: string, subject: string }> }, policies: Array<{ name: string, sha256: string, content: string }> };

export type ReleaseModelVersionFieldsFragment = { version: number, artifactSha256: string, featureColumns: Array<string>, task: Task, inputName: string, scoreOutput: string, scoreIndex: number, threshold: number | null, description: string };

export type ReleasePromotionFieldsFragment = { id: string, status: PromotionStatus, model: string, version: number, endpoint: string, strategy: PromotionStrategy, requestDigest: string, missingRoles: Array<string>, createdAt: string, rollout: { id: string, status: RolloutStatus } | null };

export type ReleaseStateQueryVariables = Exact<{
  model: string;
  endpoint: string;
  artifact: string;
  datasetName: string;
}>;


export type ReleaseStateQuery = { model: { name: string, riskTier: RiskTier, owner: string, protectedAttributes: Array<string>, modelCard: { intendedUse: string, outOfScopeUses: Array<string>, limitations: string, trainingData: string, ethicalConsiderations: string }, versions: Array<{ version: number, artifactSha256: string, featureColumns: Array<string>, task: Task, inputName: string, scoreOutput: string, scoreIndex: number, threshold: number | null, description: string }> } | null, endpoint: { name: string, model: string, liveVersion: number | null, candidateVersion: number | null } | null, artifact: { sha256: string } | null, datasets: { items: Array<{ id: string, sha256: string, rows: number }> }, pending: { items: Array<{ id: string, status: PromotionStatus, model: string, version: number, endpoint: string, strategy: PromotionStrategy, requestDigest: string, missingRoles: Array<string>, createdAt: string, rollout: { id: string, status: RolloutStatus } | null }> }, approved: { items: Array<{ id: string, status: PromotionStatus, model: string, version: number, endpoint: string, strategy: PromotionStrategy, requestDigest: string, missingRoles: Array<string>, createdAt: string, rollout: { id: string, status: RolloutStatus } | null }> }, rollingOut: { items: Array<{ id: string, status: PromotionStatus, model: string, version: number, endpoint: string, strategy: PromotionStrategy, requestDigest: string, missingRoles: Array<string>, createdAt: string, rollout: { id: string, status: RolloutStatus } | null }> } };

export type ReleaseEvaluationQueryVariables = Exact<{
  model: string;
  version: number;
  dataset: string | number;
}>;


export type ReleaseEvaluationQuery = { modelVersion: { latestEvaluation: { id: string, status: string, labelColumn: string, protectedAttributes: Array<string>, finishedAt: string | null } | null } | null };

export type ReleaseRegisterModelMutationVariables = Exact<{
  input: RegisterModelInput;
}>;


export type ReleaseRegisterModelMutation = { registerModel: { name: string } };

export type ReleaseRegisterVersionMutationVariables = Exact<{
  input: RegisterModelVersionInput;
}>;


export type ReleaseRegisterVersionMutation = { registerModelVersion: { version: number, artifactSha256: string, featureColumns: Array<string>, task: Task, inputName: string, scoreOutput: string, scoreIndex: number, threshold: number | null, description: string } };

export type ReleaseCreateEndpointMutationVariables = Exact<{
  name: string;
  model: string;
  predictionLogPolicy?: PredictionLogPolicy | null | undefined;
}>;


export type ReleaseCreateEndpointMutation = { createEndpoint: { name: string } };

export type ReleaseRunEvaluationMutationVariables = Exact<{
  model: string;
  version: number;
  dataset: string | number;
  labelColumn: string;
  protectedAttributes?: Array<string> | string | null | undefined;
  bootstrap?: BootstrapInput | null | undefined;
}>;


export type ReleaseRunEvaluationMutation = { runEvaluation: { id: string, status: string } };

export type ReleaseEvaluationStatusQueryVariables = Exact<{
  id: string | number;
}>;


export type ReleaseEvaluationStatusQuery = { evaluation: { id: string, status: string, error: string | null, progress: number } | null };

export type ReleaseRequestPromotionMutationVariables = Exact<{
  endpoint: string;
  model: string;
  version: number;
  evaluationId: string | number;
  strategy: PromotionStrategy;
  plan?: RolloutPlanInput | null | undefined;
  rollbackCriteria: RollbackCriteriaInput;
  successCriteria?: SuccessCriteriaInput | null | undefined;
  justification: string;
}>;


export type ReleaseRequestPromotionMutation = { requestPromotion: { id: string, status: PromotionStatus, model: string, version: number, endpoint: string, strategy: PromotionStrategy, requestDigest: string, missingRoles: Array<string>, createdAt: string, rollout: { id: string, status: RolloutStatus } | null } };

export type ReleaseEvaluateGatesMutationVariables = Exact<{
  id: string | number;
}>;


export type ReleaseEvaluateGatesMutation = { evaluateGates: { id: string, passed: boolean, gates: Array<{ gate: Gate, passed: boolean, summary: string }> } };

export type ImportModelVersionsQueryVariables = Exact<{
  model: string;
}>;


export type ImportModelVersionsQuery = { model: { name: string, versions: Array<{ version: number, artifactSha256: string, featureColumns: Array<string>, task: Task, inputName: string, scoreOutput: string, scoreIndex: number, threshold: number | null, description: string }> } | null };

export type ReportSubjectOfQueryVariables = Exact<{
  id: string | number;
}>;


export type ReportSubjectOfQuery = { promotionRequest: { id: string } | null, rollout: { id: string } | null };

export type ExportReportMutationVariables = Exact<{
  subject: string;
  format: ReportFormat;
}>;


export type ExportReportMutation = { exportAuditReport: { id: string, subject: string, format: ReportFormat, sha256: string, eventCount: number, treeSize: number, rootHash: string, url: string } };

export type RolloutStatusQueryVariables = Exact<{
  id: string | number;
}>;


export type RolloutStatusQuery = { rollout: { id: string, promotionId: string, endpoint: string, strategy: PromotionStrategy, candidateVersion: number, previousVersion: number | null, status: RolloutStatus, currentStage: number, startedAt: string, finishedAt: string | null, outcome: Record<string, unknown> | null, stages: Array<{ name: string, kind: RolloutStageKind, status: RolloutStageStatus, enteredAt: string | null, passedAt: string | null }>, traffic: { mode: string, liveVersion: number | null, candidateVersion: number | null, candidateWeight: number, shadowSample: number }, progress: { stage: string, decision: string, waitingFor: Array<string>, candidateRequests: number, criteria: Array<{ criterion: string, status: string, measured: number | null, threshold: number, n: number }> } | null } | null };

export type AbilitiesQueryVariables = Exact<{ [key: string]: never; }>;


export type AbilitiesQuery = { me: { abilities: Array<{ action: string, subject: string }> } };

export type EndpointsQueryVariables = Exact<{
  cursor?: string | null | undefined;
}>;


export type EndpointsQuery = { endpoints: { nextCursor: string | null, items: Array<{ name: string, model: string, liveVersion: number | null, candidateVersion: number | null, standbyVersion: number | null, mode: TrafficMode, candidateWeight: number, shadowSample: number, revision: number, updatedAt: string, drift: { alerting: boolean, since: string | null, checkedAt: string, version: number, scorePsi: number | null, threshold: number, rows: number, features: Array<{ feature: string, psi: number }> } | null }> } };

export type ActiveRolloutsQueryVariables = Exact<{
  cursor?: string | null | undefined;
}>;


export type ActiveRolloutsQuery = { promotionRequests: { nextCursor: string | null, items: Array<{ endpoint: string, rollout: { id: string, status: RolloutStatus } | null }> } };

export type LedgerEventsQueryVariables = Exact<{
  afterSeq: number;
  limit: number;
  type?: string | null | undefined;
  subject?: string | null | undefined;
  actor?: string | null | undefined;
  from?: string | null | undefined;
  to?: string | null | undefined;
}>;


export type LedgerEventsQuery = { ledgerEvents: { nextAfterSeq: number | null, events: Array<{ seq: number, id: string, ts: string, type: string, subject: string, hash: string, actor: { sub: string, roles: Array<string> | null } }> } };

export type LedgerExportQueryVariables = Exact<{
  afterSeq: number;
  limit: number;
  type?: string | null | undefined;
  subject?: string | null | undefined;
  actor?: string | null | undefined;
  from?: string | null | undefined;
  to?: string | null | undefined;
}>;


export type LedgerExportQuery = { ledgerEvents: { nextAfterSeq: number | null, events: Array<{ seq: number, canonical: string, hash: string, jws: string }> } };

export type LedgerIntegrityQueryVariables = Exact<{ [key: string]: never; }>;


export type LedgerIntegrityQuery = { verifyLedger: { ok: boolean, fromSeq: number, toSeq: number, eventsChecked: number, signaturesChecked: number, checkpointsChecked: number, durationMs: number, failure: { seq: number, reason: string, detail: string } | null }, ledgerCheckpoint: { treeSize: number, rootHash: string, ts: string } | null };

export type LedgerEventAtSeqQueryVariables = Exact<{
  afterSeq: number;
}>;


export type LedgerEventAtSeqQuery = { ledgerEvents: { events: Array<{ seq: number, ts: string, type: string, subject: string, hash: string, canonical: string, actor: { sub: string } }> }, ledgerCheckpoint: { treeSize: number, rootHash: string, ts: string } | null };

export type LedgerInclusionProofQueryVariables = Exact<{
  seq: number;
  treeSize: number;
}>;


export type LedgerInclusionProofQuery = { inclusionProof: { seq: number, treeSize: number, leafHash: string, rootHash: string, proof: Array<string> } };

export type PendingPromotionsQueryVariables = Exact<{
  cursor?: string | null | undefined;
}>;


export type PendingPromotionsQuery = { promotionRequests: { nextCursor: string | null, items: Array<{ id: string, model: string, version: number, endpoint: string, riskTier: RiskTier, strategy: PromotionStrategy, requestedBy: string, createdAt: string, requiredRoles: Array<string>, missingRoles: Array<string>, approvals: Array<{ role: string, approver: string }> }> } };

export type ThresholdFieldsFragment = { value: number, window: { minRequests: number, seconds: number } };

export type CriteriaFieldsFragment = { maxErrorRate: { value: number, window: { minRequests: number, seconds: number } } | null, maxP99LatencyMs: { value: number, window: { minRequests: number, seconds: number } } | null, maxPsiDrift: { value: number, window: { minRequests: number, seconds: number } } | null, minAccuracy: { value: number, window: { minRequests: number, seconds: number } } | null, minAgreementWithLive: { value: number, window: { minRequests: number, seconds: number } } | null, minAuc: { value: number, window: { minRequests: number, seconds: number } } | null, minDisparateImpact: { value: number, window: { minRequests: number, seconds: number } } | null };

export type RollbackFieldsFragment = { rationale: string, maxErrorRate: { value: number, window: { minRequests: number, seconds: number } } | null, maxP99LatencyMs: { value: number, window: { minRequests: number, seconds: number } } | null, maxPsiDrift: { value: number, window: { minRequests: number, seconds: number } } | null, minAccuracy: { value: number, window: { minRequests: number, seconds: number } } | null, minAgreementWithLive: { value: number, window: { minRequests: number, seconds: number } } | null, minAuc: { value: number, window: { minRequests: number, seconds: number } } | null, minDisparateImpact: { value: number, window: { minRequests: number, seconds: number } } | null };

export type RequestStatusFieldsFragment = { status: PromotionStatus, missingRoles: Array<string>, closeReason: string | null, closedBy: string | null, closedAt: string | null, approvals: Array<{ role: string, approver: string, approvedAt: string, signOff: boolean, statement: string | null }> };

export type PromotionRequestReviewQueryVariables = Exact<{
  id: string | number;
}>;


export type PromotionRequestReviewQuery = { promotionRequest: { id: string, model: string, version: number, endpoint: string, riskTier: RiskTier, strategy: PromotionStrategy, liveVersion: number | null, requestedBy: string, createdAt: string, justification: string, requestDigest: string, policySha256: string, judgedUnderPolicySha256: string, requiredRoles: Array<string>, evaluationId: string, status: PromotionStatus, missingRoles: Array<string>, closeReason: string | null, closedBy: string | null, closedAt: string | null, plan: { shadow: { sampleRate: number, minRequests: number, minDurationSeconds: number } | null, canary: { steps: Array<number>, minRequestsPerStep: number, bakeSeconds: number } | null, abTest: { splitPercent: number, outcome: AbTestOutcome, minSamples: number, significanceLevel: number } | null }, rollbackCriteria: { rationale: string, maxErrorRate: { value: number, window: { minRequests: number, seconds: number } } | null, maxP99LatencyMs: { value: number, window: { minRequests: number, seconds: number } } | null, maxPsiDrift: { value: number, window: { minRequests: number, seconds: number } } | null, minAccuracy: { value: number, window: { minRequests: number, seconds: number } } | null, minAgreementWithLive: { value: number, window: { minRequests: number, seconds: number } } | null, minAuc: { value: number, window: { minRequests: number, seconds: number } } | null, minDisparateImpact: { value: number, window: { minRequests: number, seconds: number } } | null }, successCriteria: { maxErrorRate: { value: number, window: { minRequests: number, seconds: number } } | null, maxP99LatencyMs: { value: number, window: { minRequests: number, seconds: number } } | null, maxPsiDrift: { value: number, window: { minRequests: number, seconds: number } } | null, minAccuracy: { value: number, window: { minRequests: number, seconds: number } } | null, minAgreementWithLive: { value: number, window: { minRequests: number, seconds: number } } | null, minAuc: { value: number, window: { minRequests: number, seconds: number } } | null, minDisparateImpact: { value: number, window: { minRequests: number, seconds: number } } | null } | null, gateEvaluations: Array<{ id: string, evaluatedAt: string, evaluatedBy: string, purpose: GatePurpose, passed: boolean, gates: Array<{ gate: Gate, passed: boolean, summary: string }> }>, approvals: Array<{ role: string, approver: string, approvedAt: string, signOff: boolean, statement: string | null }> } | null, me: { abilities: Array<{ action: string, subject: string }> }, policies: Array<{ name: string, sha256: string, content: string }> };

export type ReviewEvidenceQueryVariables = Exact<{
  model: string;
  evaluationId: string | number;
}>;


export type ReviewEvidenceQuery = { model: { owner: string, protectedAttributes: Array<string>, modelCard: { intendedUse: string, limitations: string, outOfScopeUses: Array<string>, trainingData: string, ethicalConsiderations: string } } | null, evaluation: { id: string, status: string, finishedAt: string | null, datasetId: string, resultSha256: string | null, performance: Array<{ name: string, value: number | null, interval: { lower: number | null, upper: number | null } | null }>, fairness: Array<{ attribute: string, referenceGroup: string | null, passesFourFifths: boolean | null, figures: Array<{ name: string, value: number | null }>, groups: Array<{ group: string, count: number, selectionRate: number, truePositiveRate: number | null, falsePositiveRate: number | null, belowMinimumSize: boolean }> }> } | null };

export type ApprovePromotionMutationVariables = Exact<{
  id: string | number;
  requestDigest: string;
  role: string;
  statement?: string | null | undefined;
}>;


export type ApprovePromotionMutation = { approvePromotion: { id: string, status: PromotionStatus, missingRoles: Array<string>, closeReason: string | null, closedBy: string | null, closedAt: string | null, history: Array<{ seq: number, hash: string, type: string, ts: string, payload: Record<string, unknown>, actor: { sub: string } }>, approvals: Array<{ role: string, approver: string, approvedAt: string, signOff: boolean, statement: string | null }> } };

export type RejectPromotionMutationVariables = Exact<{
  id: string | number;
  reason: string;
}>;


export type RejectPromotionMutation = { rejectPromotion: { id: string, status: PromotionStatus, missingRoles: Array<string>, closeReason: string | null, closedBy: string | null, closedAt: string | null, approvals: Array<{ role: string, approver: string, approvedAt: string, signOff: boolean, statement: string | null }> } };

export type LiveEvaluationQueryVariables = Exact<{
  model: string;
  version: number;
  dataset: string | number;
}>;


export type LiveEvaluationQuery = { modelVersion: { version: number, latestEvaluation: { id: string, finishedAt: string | null, datasetId: string, performance: Array<{ name: string, value: number | null }> } | null } | null };

export type ReportPermissionsQueryVariables = Exact<{ [key: string]: never; }>;


export type ReportPermissionsQuery = { me: { roles: Array<string>, abilities: Array<{ action: string, subject: string }> } };

export type ExportedReportsQueryVariables = Exact<{
  afterSeq: number;
}>;


export type ExportedReportsQuery = { ledgerEvents: { nextAfterSeq: number | null, events: Array<{ seq: number, ts: string, payload: Record<string, unknown>, actor: { sub: string } }> } };

export type ExportAuditReportMutationVariables = Exact<{
  subject: string;
  format: ReportFormat;
}>;


export type ExportAuditReportMutation = { exportAuditReport: { id: string, subject: string, format: ReportFormat, sha256: string, eventCount: number, treeSize: number, rootHash: string, createdAt: string, createdBy: string } };

export type RolloutSummaryFieldsFragment = { id: string, endpoint: string, strategy: PromotionStrategy, candidateVersion: number, previousVersion: number | null, status: RolloutStatus, currentStage: number, startedAt: string, finishedAt: string | null, stages: Array<{ name: string, status: RolloutStageStatus }> };

export type RolloutListQueryVariables = Exact<{
  cursor?: string | null | undefined;
}>;


export type RolloutListQuery = { running: { nextCursor: string | null, items: Array<{ id: string, endpoint: string, strategy: PromotionStrategy, candidateVersion: number, previousVersion: number | null, status: RolloutStatus, currentStage: number, startedAt: string, finishedAt: string | null, stages: Array<{ name: string, status: RolloutStageStatus }> }> }, paused: { nextCursor: string | null, items: Array<{ id: string, endpoint: string, strategy: PromotionStrategy, candidateVersion: number, previousVersion: number | null, status: RolloutStatus, currentStage: number, startedAt: string, finishedAt: string | null, stages: Array<{ name: string, status: RolloutStageStatus }> }> }, recent: { nextCursor: string | null, items: Array<{ id: string, endpoint: string, strategy: PromotionStrategy, candidateVersion: number, previousVersion: number | null, status: RolloutStatus, currentStage: number, startedAt: string, finishedAt: string | null, stages: Array<{ name: string, status: RolloutStageStatus }> }> } };

export type RecentRolloutsQueryVariables = Exact<{
  cursor?: string | null | undefined;
}>;


export type RecentRolloutsQuery = { rollouts: { nextCursor: string | null, items: Array<{ id: string, endpoint: string, strategy: PromotionStrategy, candidateVersion: number, previousVersion: number | null, status: RolloutStatus, currentStage: number, startedAt: string, finishedAt: string | null, stages: Array<{ name: string, status: RolloutStageStatus }> }> } };

export type RolloutWatchFieldsFragment = { id: string, promotionId: string, endpoint: string, strategy: PromotionStrategy, candidateVersion: number, previousVersion: number | null, status: RolloutStatus, currentStage: number, startedBy: string, startedAt: string, updatedAt: string, finishedAt: string | null, outcome: Record<string, unknown> | null, stages: Array<{ name: string, kind: RolloutStageKind, status: RolloutStageStatus, enteredAt: string | null, passedAt: string | null }>, traffic: { mode: string, liveVersion: number | null, candidateVersion: number | null, candidateWeight: number, shadowSample: number }, progress: { stage: string, decision: string, waitingFor: Array<string>, candidateRequests: number, arms: Array<{ arm: string, version: number, requests: number, errors: number, errorRate: number | null, p50Ms: number | null, p99Ms: number | null, selectionRate: number | null, agreement: number | null }>, criteria: Array<{ criterion: string, kind: string, threshold: number, status: string, measured: number | null, live: number | null, n: number, test: string | null, pValue: number | null, note: string }> } | null, history: Array<{ seq: number, ts: string, type: string, traceId: string | null, payload: Record<string, unknown>, actor: { sub: string } }> };

export type RolloutWatchQueryVariables = Exact<{
  id: string | number;
}>;


export type RolloutWatchQuery = { rollout: { id: string, promotionId: string, endpoint: string, strategy: PromotionStrategy, candidateVersion: number, previousVersion: number | null, status: RolloutStatus, currentStage: number, startedBy: string, startedAt: string, updatedAt: string, finishedAt: string | null, outcome: Record<string, unknown> | null, stages: Array<{ name: string, kind: RolloutStageKind, status: RolloutStageStatus, enteredAt: string | null, passedAt: string | null }>, traffic: { mode: string, liveVersion: number | null, candidateVersion: number | null, candidateWeight: number, shadowSample: number }, progress: { stage: string, decision: string, waitingFor: Array<string>, candidateRequests: number, arms: Array<{ arm: string, version: number, requests: number, errors: number, errorRate: number | null, p50Ms: number | null, p99Ms: number | null, selectionRate: number | null, agreement: number | null }>, criteria: Array<{ criterion: string, kind: string, threshold: number, status: string, measured: number | null, live: number | null, n: number, test: string | null, pValue: number | null, note: string }> } | null, history: Array<{ seq: number, ts: string, type: string, traceId: string | null, payload: Record<string, unknown>, actor: { sub: string } }> } | null };

export type RolloutPermissionsQueryVariables = Exact<{ [key: string]: never; }>;


export type RolloutPermissionsQuery = { me: { abilities: Array<{ action: string, subject: string }> }, policies: Array<{ name: string, content: string }> };

export type PauseRolloutMutationVariables = Exact<{
  id: string | number;
  reason: string;
}>;


export type PauseRolloutMutation = { pauseRollout: { id: string, promotionId: string, endpoint: string, strategy: PromotionStrategy, candidateVersion: number, previousVersion: number | null, status: RolloutStatus, currentStage: number, startedBy: string, startedAt: string, updatedAt: string, finishedAt: string | null, outcome: Record<string, unknown> | null, stages: Array<{ name: string, kind: RolloutStageKind, status: RolloutStageStatus, enteredAt: string | null, passedAt: string | null }>, traffic: { mode: string, liveVersion: number | null, candidateVersion: number | null, candidateWeight: number, shadowSample: number }, progress: { stage: string, decision: string, waitingFor: Array<string>, candidateRequests: number, arms: Array<{ arm: string, version: number, requests: number, errors: number, errorRate: number | null, p50Ms: number | null, p99Ms: number | null, selectionRate: number | null, agreement: number | null }>, criteria: Array<{ criterion: string, kind: string, threshold: number, status: string, measured: number | null, live: number | null, n: number, test: string | null, pValue: number | null, note: string }> } | null, history: Array<{ seq: number, ts: string, type: string, traceId: string | null, payload: Record<string, unknown>, actor: { sub: string } }> } };

export type AdvanceRolloutMutationVariables = Exact<{
  id: string | number;
  reason: string;
}>;


export type AdvanceRolloutMutation = { advanceRollout: { id: string, promotionId: string, endpoint: string, strategy: PromotionStrategy, candidateVersion: number, previousVersion: number | null, status: RolloutStatus, currentStage: number, startedBy: string, startedAt: string, updatedAt: string, finishedAt: string | null, outcome: Record<string, unknown> | null, stages: Array<{ name: string, kind: RolloutStageKind, status: RolloutStageStatus, enteredAt: string | null, passedAt: string | null }>, traffic: { mode: string, liveVersion: number | null, candidateVersion: number | null, candidateWeight: number, shadowSample: number }, progress: { stage: string, decision: string, waitingFor: Array<string>, candidateRequests: number, arms: Array<{ arm: string, version: number, requests: number, errors: number, errorRate: number | null, p50Ms: number | null, p99Ms: number | null, selectionRate: number | null, agreement: number | null }>, criteria: Array<{ criterion: string, kind: string, threshold: number, status: string, measured: number | null, live: number | null, n: number, test: string | null, pValue: number | null, note: string }> } | null, history: Array<{ seq: number, ts: string, type: string, traceId: string | null, payload: Record<string, unknown>, actor: { sub: string } }> } };

export type RollbackRolloutMutationVariables = Exact<{
  id: string | number;
  reason: string;
}>;


export type RollbackRolloutMutation = { rollbackRollout: { id: string, promotionId: string, endpoint: string, strategy: PromotionStrategy, candidateVersion: number, previousVersion: number | null, status: RolloutStatus, currentStage: number, startedBy: string, startedAt: string, updatedAt: string, finishedAt: string | null, outcome: Record<string, unknown> | null, stages: Array<{ name: string, kind: RolloutStageKind, status: RolloutStageStatus, enteredAt: string | null, passedAt: string | null }>, traffic: { mode: string, liveVersion: number | null, candidateVersion: number | null, candidateWeight: number, shadowSample: number }, progress: { stage: string, decision: string, waitingFor: Array<string>, candidateRequests: number, arms: Array<{ arm: string, version: number, requests: number, errors: number, errorRate: number | null, p50Ms: number | null, p99Ms: number | null, selectionRate: number | null, agreement: number | null }>, criteria: Array<{ criterion: string, kind: string, threshold: number, status: string, measured: number | null, live: number | null, n: number, test: string | null, pValue: number | null, note: string }> } | null, history: Array<{ seq: number, ts: string, type: string, traceId: string | null, payload: Record<string, unknown>, actor: { sub: string } }> } };

export class TypedDocumentString<TResult, TVariables>
  extends String
  implements DocumentTypeDecoration<TResult, TVariables>
{
  __apiType?: NonNullable<DocumentTypeDecoration<TResult, TVariables>['__apiType']>;
  private value: string;
  public __meta__?: Record<string, any> | undefined;

  constructor(value: string, __meta__?: Record<string, any> | undefined) {
    super(value);
    this.value = value;
    this.__meta__ = __meta__;
  }

  override toString(): string & DocumentTypeDecoration<TResult, TVariables> {
    return this.value;
  }
}
export const ReleaseModelVersionFieldsFragmentDoc = new TypedDocumentString(`
    fragment ReleaseModelVersionFields on ModelVersion {
  version
  artifactSha256
  featureColumns
  task
  inputName
  scoreOutput
  scoreIndex
  threshold
  description
}
    `, {"fragmentName":"ReleaseModelVersionFields"}) as unknown as TypedDocumentString<ReleaseModelVersionFieldsFragment, unknown>;
export const ReleasePromotionFieldsFragmentDoc = new TypedDocumentString(`
    fragment ReleasePromotionFields on PromotionRequest {
  id
  status
  model
  version
  endpoint
  strategy
  requestDigest
  missingRoles
  createdAt
  rollout {
    id
    status
  }
}
    `, {"fragmentName":"ReleasePromotionFields"}) as unknown as TypedDocumentString<ReleasePromotionFieldsFragment, unknown>;
export const ThresholdFieldsFragmentDoc = new TypedDocumentString(`
    fragment ThresholdFields on Threshold {
  value
  window {
    minRequests
    seconds
  }
}
    `, {"fragmentName":"ThresholdFields"}) as unknown as TypedDocumentString<ThresholdFieldsFragment, unknown>;
export const CriteriaFieldsFragmentDoc = new TypedDocumentString(`
    fragment CriteriaFields on SuccessCriteria {
  maxErrorRate {
    ...ThresholdFields
  }
  maxP99LatencyMs {
    ...ThresholdFields
  }
  maxPsiDrift {
    ...ThresholdFields
  }
  minAccuracy {
    ...ThresholdFields
  }
  minAgreementWithLive {
    ...ThresholdFields
  }
  minAuc {
    ...ThresholdFields
  }
  minDisparateImpact {
    ...ThresholdFields
  }
}
    fragment ThresholdFields on Threshold {
  value
  window {
    minRequests
    seconds
  }
}`, {"fragmentName":"CriteriaFields"}) as unknown as TypedDocumentString<CriteriaFieldsFragment, unknown>;
export const RollbackFieldsFragmentDoc = new TypedDocumentString(`
    fragment RollbackFields on RollbackCriteria {
  rationale
  maxErrorRate {
    ...ThresholdFields
  }
  maxP99LatencyMs {
    ...ThresholdFields
  }
  maxPsiDrift {
    ...ThresholdFields
  }
  minAccuracy {
    ...ThresholdFields
  }
  minAgreementWithLive {
    ...ThresholdFields
  }
  minAuc {
    ...ThresholdFields
  }
  minDisparateImpact {
    ...ThresholdFields
  }
}
    fragment ThresholdFields on Threshold {
  value
  window {
    minRequests
    seconds
  }
}`, {"fragmentName":"RollbackFields"}) as unknown as TypedDocumentString<RollbackFieldsFragment, unknown>;
export const RequestStatusFieldsFragmentDoc = new TypedDocumentString(`
    fragment RequestStatusFields on PromotionRequest {
  status
  missingRoles
  closeReason
  closedBy
  closedAt
  approvals {
    role
    approver
    approvedAt
    signOff
    statement
  }
}
    `, {"fragmentName":"RequestStatusFields"}) as unknown as TypedDocumentString<RequestStatusFieldsFragment, unknown>;
export const RolloutSummaryFieldsFragmentDoc = new TypedDocumentString(`
    fragment RolloutSummaryFields on Rollout {
  id
  endpoint
  strategy
  candidateVersion
  previousVersion
  status
  currentStage
  startedAt
  finishedAt
  stages {
    name
    status
  }
}
    `, {"fragmentName":"RolloutSummaryFields"}) as unknown as TypedDocumentString<RolloutSummaryFieldsFragment, unknown>;
export const RolloutWatchFieldsFragmentDoc = new TypedDocumentString(`
    fragment RolloutWatchFields on Rollout {
  id
  promotionId
  endpoint
  strategy
  candidateVersion
  previousVersion
  status
  currentStage
  startedBy
  startedAt
  updatedAt
  finishedAt
  outcome
  stages {
    name
    kind
    status
    enteredAt
    passedAt
  }
  traffic {
    mode
    liveVersion
    candidateVersion
    candidateWeight
    shadowSample
  }
  progress {
    stage
    decision
    waitingFor
    candidateRequests
    arms {
      arm
      version
      requests
      errors
      errorRate
      p50Ms
      p99Ms
      selectionRate
      agreement
    }
    criteria {
      criterion
      kind
      threshold
      status
      measured
      live
      n
      test
      pValue
      note
    }
  }
  history {
    seq
    ts
    type
    traceId
    actor {
      sub
    }
    payload
  }
}
    `, {"fragmentName":"RolloutWatchFields"}) as unknown as TypedDocumentString<RolloutWatchFieldsFragment, unknown>;
export const PromotionStatusDocument = new TypedDocumentString(`
    query PromotionStatus($id: ID!) {
  promotionRequest(id: $id) {
    id
    status
    model
    version
    endpoint
    strategy
    requiredRoles
    missingRoles
    closeReason
    closedBy
    closedAt
    approvals {
      role
      approver
      approvedAt
    }
    rollout {
      id
      status
    }
  }
}
    `) as unknown as TypedDocumentString<PromotionStatusQuery, PromotionStatusQueryVariables>;
export const StartRolloutDocument = new TypedDocumentString(`
    mutation StartRollout($promotionId: ID!) {
  startRollout(promotionId: $promotionId) {
    id
    status
    endpoint
    candidateVersion
  }
}
    `) as unknown as TypedDocumentString<StartRolloutMutation, StartRolloutMutationVariables>;
export const WithdrawPromotionDocument = new TypedDocumentString(`
    mutation WithdrawPromotion($id: ID!) {
  withdrawPromotion(id: $id) {
    id
    status
  }
}
    `) as unknown as TypedDocumentString<WithdrawPromotionMutation, WithdrawPromotionMutationVariables>;
export const ReleasePoliciesDocument = new TypedDocumentString(`
    query ReleasePolicies {
  me {
    sub
    roles
    abilities {
      action
      subject
    }
  }
  policies {
    name
    sha256
    content
  }
}
    `) as unknown as TypedDocumentString<ReleasePoliciesQuery, ReleasePoliciesQueryVariables>;
export const ReleaseStateDocument = new TypedDocumentString(`
    query ReleaseState($model: String!, $endpoint: String!, $artifact: String!, $datasetName: String!) {
  model(name: $model) {
    name
    riskTier
    owner
    protectedAttributes
    modelCard {
      intendedUse
      outOfScopeUses
      limitations
      trainingData
      ethicalConsiderations
    }
    versions {
      ...ReleaseModelVersionFields
    }
  }
  endpoint(name: $endpoint) {
    name
    model
    liveVersion
    candidateVersion
  }
  artifact(sha256: $artifact) {
    sha256
  }
  datasets(name: $datasetName, limit: 200) {
    items {
      id
      sha256
      rows
    }
  }
  pending: promotionRequests(endpoint: $endpoint, status: PENDING, limit: 20) {
    items {
      ...ReleasePromotionFields
    }
  }
  approved: promotionRequests(endpoint: $endpoint, status: APPROVED, limit: 20) {
    items {
      ...ReleasePromotionFields
    }
  }
  rollingOut: promotionRequests(
    endpoint: $endpoint
    status: ROLLING_OUT
    limit: 20
  ) {
    items {
      ...ReleasePromotionFields
    }
  }
}
    fragment ReleaseModelVersionFields on ModelVersion {
  version
  artifactSha256
  featureColumns
  task
  inputName
  scoreOutput
  scoreIndex
  threshold
  description
}
fragment ReleasePromotionFields on PromotionRequest {
  id
  status
  model
  version
  endpoint
  strategy
  requestDigest
  missingRoles
  createdAt
  rollout {
    id
    status
  }
}`) as unknown as TypedDocumentString<ReleaseStateQuery, ReleaseStateQueryVariables>;
export const ReleaseEvaluationDocument = new TypedDocumentString(`
    query ReleaseEvaluation($model: String!, $version: Int!, $dataset: ID!) {
  modelVersion(model: $model, version: $version) {
    latestEvaluation(dataset: $dataset) {
      id
      status
      labelColumn
      protectedAttributes
      finishedAt
    }
  }
}
    `) as unknown as TypedDocumentString<ReleaseEvaluationQuery, ReleaseEvaluationQueryVariables>;
export const ReleaseRegisterModelDocument = new TypedDocumentString(`
    mutation ReleaseRegisterModel($input: RegisterModelInput!) {
  registerModel(input: $input) {
    name
  }
}
    `) as unknown as TypedDocumentString<ReleaseRegisterModelMutation, ReleaseRegisterModelMutationVariables>;
export const ReleaseRegisterVersionDocument = new TypedDocumentString(`
    mutation ReleaseRegisterVersion($input: RegisterModelVersionInput!) {
  registerModelVersion(input: $input) {
    ...ReleaseModelVersionFields
  }
}
    fragment ReleaseModelVersionFields on ModelVersion {
  version
  artifactSha256
  featureColumns
  task
  inputName
  scoreOutput
  scoreIndex
  threshold
  description
}`) as unknown as TypedDocumentString<ReleaseRegisterVersionMutation, ReleaseRegisterVersionMutationVariables>;
export const ReleaseCreateEndpointDocument = new TypedDocumentString(`
    mutation ReleaseCreateEndpoint($name: String!, $model: String!, $predictionLogPolicy: PredictionLogPolicy) {
  createEndpoint(
    name: $name
    model: $model
    predictionLogPolicy: $predictionLogPolicy
  ) {
    name
  }
}
    `) as unknown as TypedDocumentString<ReleaseCreateEndpointMutation, ReleaseCreateEndpointMutationVariables>;
export const ReleaseRunEvaluationDocument = new TypedDocumentString(`
    mutation ReleaseRunEvaluation($model: String!, $version: Int!, $dataset: ID!, $labelColumn: String!, $protectedAttributes: [String!], $bootstrap: BootstrapInput) {
  runEvaluation(
    model: $model
    version: $version
    dataset: $dataset
    labelColumn: $labelColumn
    protectedAttributes: $protectedAttributes
    bootstrap: $bootstrap
  ) {
    id
    status
  }
}
    `) as unknown as TypedDocumentString<ReleaseRunEvaluationMutation, ReleaseRunEvaluationMutationVariables>;
export const ReleaseEvaluationStatusDocument = new TypedDocumentString(`
    query ReleaseEvaluationStatus($id: ID!) {
  evaluation(id: $id) {
    id
    status
    error
    progress
  }
}
    `) as unknown as TypedDocumentString<ReleaseEvaluationStatusQuery, ReleaseEvaluationStatusQueryVariables>;
export const ReleaseRequestPromotionDocument = new TypedDocumentString(`
    mutation ReleaseRequestPromotion($endpoint: String!, $model: String!, $version: Int!, $evaluationId: ID!, $strategy: PromotionStrategy!, $plan: RolloutPlanInput, $rollbackCriteria: RollbackCriteriaInput!, $successCriteria: SuccessCriteriaInput, $justification: String!) {
  requestPromotion(
    endpoint: $endpoint
    model: $model
    version: $version
    evaluationId: $evaluationId
    strategy: $strategy
    plan: $plan
    rollbackCriteria: $rollbackCriteria
    successCriteria: $successCriteria
    justification: $justification
  ) {
    ...ReleasePromotionFields
  }
}
    fragment ReleasePromotionFields on PromotionRequest {
  id
  status
  model
  version
  endpoint
  strategy
  requestDigest
  missingRoles
  createdAt
  rollout {
    id
    status
  }
}`) as unknown as TypedDocumentString<ReleaseRequestPromotionMutation, ReleaseRequestPromotionMutationVariables>;
export const ReleaseEvaluateGatesDocument = new TypedDocumentString(`
    mutation ReleaseEvaluateGates($id: ID!) {
  evaluateGates(id: $id) {
    id
    passed
    gates {
      gate
      passed
      summary
    }
  }
}
    `) as unknown as TypedDocumentString<ReleaseEvaluateGatesMutation, ReleaseEvaluateGatesMutationVariables>;
export const ImportModelVersionsDocument = new TypedDocumentString(`
    query ImportModelVersions($model: String!) {
  model(name: $model) {
    name
    versions {
      ...ReleaseModelVersionFields
    }
  }
}
    fragment ReleaseModelVersionFields on ModelVersion {
  version
  artifactSha256
  featureColumns
  task
  inputName
  scoreOutput
  scoreIndex
  threshold
  description
}`) as unknown as TypedDocumentString<ImportModelVersionsQuery, ImportModelVersionsQueryVariables>;
export const ReportSubjectOfDocument = new TypedDocumentString(`
    query ReportSubjectOf($id: ID!) {
  promotionRequest(id: $id) {
    id
  }
  rollout(id: $id) {
    id
  }
}
    `) as unknown as TypedDocumentString<ReportSubjectOfQuery, ReportSubjectOfQueryVariables>;
export const ExportReportDocument = new TypedDocumentString(`
    mutation ExportReport($subject: String!, $format: ReportFormat!) {
  exportAuditReport(subject: $subject, format: $format) {
    id
    subject
    format
    sha256
    eventCount
    treeSize
    rootHash
    url
  }
}
    `) as unknown as TypedDocumentString<ExportReportMutation, ExportReportMutationVariables>;
export const RolloutStatusDocument = new TypedDocumentString(`
    query RolloutStatus($id: ID!) {
  rollout(id: $id) {
    id
    promotionId
    endpoint
    strategy
    candidateVersion
    previousVersion
    status
    currentStage
    startedAt
    finishedAt
    outcome
    stages {
      name
      kind
      status
      enteredAt
      passedAt
    }
    traffic {
      mode
      liveVersion
      candidateVersion
      candidateWeight
      shadowSample
    }
    progress {
      stage
      decision
      waitingFor
      candidateRequests
      criteria {
        criterion
        status
        measured
        threshold
        n
      }
    }
  }
}
    `) as unknown as TypedDocumentString<RolloutStatusQuery, RolloutStatusQueryVariables>;
export const AbilitiesDocument = new TypedDocumentString(`
    query Abilities {
  me {
    abilities {
      action
      subject
    }
  }
}
    `) as unknown as TypedDocumentString<AbilitiesQuery, AbilitiesQueryVariables>;
export const EndpointsDocument = new TypedDocumentString(`
    query Endpoints($cursor: String) {
  endpoints(limit: 50, cursor: $cursor) {
    items {
      name
      model
      liveVersion
      candidateVersion
      standbyVersion
      mode
      candidateWeight
      shadowSample
      revision
      updatedAt
      drift {
        alerting
        since
        checkedAt
        version
        scorePsi
        threshold
        rows
        features {
          feature
          psi
        }
      }
    }
    nextCursor
  }
}
    `) as unknown as TypedDocumentString<EndpointsQuery, EndpointsQueryVariables>;
export const ActiveRolloutsDocument = new TypedDocumentString(`
    query ActiveRollouts($cursor: String) {
  promotionRequests(status: ROLLING_OUT, limit: 200, cursor: $cursor) {
    items {
      endpoint
      rollout {
        id
        status
      }
    }
    nextCursor
  }
}
    `) as unknown as TypedDocumentString<ActiveRolloutsQuery, ActiveRolloutsQueryVariables>;
export const LedgerEventsDocument = new TypedDocumentString(`
    query LedgerEvents($afterSeq: Int!, $limit: Int!, $type: String, $subject: String, $actor: String, $from: DateTime, $to: DateTime) {
  ledgerEvents(
    afterSeq: $afterSeq
    limit: $limit
    type: $type
    subject: $subject
    actor: $actor
    from: $from
    to: $to
  ) {
    events {
      seq
      id
      ts
      type
      subject
      hash
      actor {
        sub
        roles
      }
    }
    nextAfterSeq
  }
}
    `) as unknown as TypedDocumentString<LedgerEventsQuery, LedgerEventsQueryVariables>;
export const LedgerExportDocument = new TypedDocumentString(`
    query LedgerExport($afterSeq: Int!, $limit: Int!, $type: String, $subject: String, $actor: String, $from: DateTime, $to: DateTime) {
  ledgerEvents(
    afterSeq: $afterSeq
    limit: $limit
    type: $type
    subject: $subject
    actor: $actor
    from: $from
    to: $to
  ) {
    events {
      seq
      canonical
      hash
      jws
    }
    nextAfterSeq
  }
}
    `) as unknown as TypedDocumentString<LedgerExportQuery, LedgerExportQueryVariables>;
export const LedgerIntegrityDocument = new TypedDocumentString(`
    query LedgerIntegrity {
  verifyLedger {
    ok
    fromSeq
    toSeq
    eventsChecked
    signaturesChecked
    checkpointsChecked
    durationMs
    failure {
      seq
      reason
      detail
    }
  }
  ledgerCheckpoint {
    treeSize
    rootHash
    ts
  }
}
    `) as unknown as TypedDocumentString<LedgerIntegrityQuery, LedgerIntegrityQueryVariables>;
export const LedgerEventAtSeqDocument = new TypedDocumentString(`
    query LedgerEventAtSeq($afterSeq: Int!) {
  ledgerEvents(afterSeq: $afterSeq, limit: 1) {
    events {
      seq
      ts
      type
      subject
      actor {
        sub
      }
      hash
      canonical
    }
  }
  ledgerCheckpoint {
    treeSize
    rootHash
    ts
  }
}
    `) as unknown as TypedDocumentString<LedgerEventAtSeqQuery, LedgerEventAtSeqQueryVariables>;
export const LedgerInclusionProofDocument = new TypedDocumentString(`
    query LedgerInclusionProof($seq: Int!, $treeSize: Int!) {
  inclusionProof(seq: $seq, treeSize: $treeSize) {
    seq
    treeSize
    leafHash
    rootHash
    proof
  }
}
    `) as unknown as TypedDocumentString<LedgerInclusionProofQuery, LedgerInclusionProofQueryVariables>;
export const PendingPromotionsDocument = new TypedDocumentString(`
    query PendingPromotions($cursor: String) {
  promotionRequests(status: PENDING, limit: 200, cursor: $cursor) {
    items {
      id
      model
      version
      endpoint
      riskTier
      strategy
      requestedBy
      createdAt
      requiredRoles
      missingRoles
      approvals {
        role
        approver
      }
    }
    nextCursor
  }
}
    `) as unknown as TypedDocumentString<PendingPromotionsQuery, PendingPromotionsQueryVariables>;
export const PromotionRequestReviewDocument = new TypedDocumentString(`
    query PromotionRequestReview($id: ID!) {
  promotionRequest(id: $id) {
    id
    model
    version
    endpoint
    riskTier
    strategy
    liveVersion
    requestedBy
    createdAt
    justification
    requestDigest
    policySha256
    judgedUnderPolicySha256
    requiredRoles
    evaluationId
    ...RequestStatusFields
    plan {
      shadow {
        sampleRate
        minRequests
        minDurationSeconds
      }
      canary {
        steps
        minRequestsPerStep
        bakeSeconds
      }
      abTest {
        splitPercent
        outcome
        minSamples
        significanceLevel
      }
    }
    rollbackCriteria {
      ...RollbackFields
    }
    successCriteria {
      ...CriteriaFields
    }
    gateEvaluations {
      id
      evaluatedAt
      evaluatedBy
      purpose
      passed
      gates {
        gate
        passed
        summary
      }
    }
  }
  me {
    abilities {
      action
      subject
    }
  }
  policies {
    name
    sha256
    content
  }
}
    fragment ThresholdFields on Threshold {
  value
  window {
    minRequests
    seconds
  }
}
fragment CriteriaFields on SuccessCriteria {
  maxErrorRate {
    ...ThresholdFields
  }
  maxP99LatencyMs {
    ...ThresholdFields
  }
  maxPsiDrift {
    ...ThresholdFields
  }
  minAccuracy {
    ...ThresholdFields
  }
  minAgreementWithLive {
    ...ThresholdFields
  }
  minAuc {
    ...ThresholdFields
  }
  minDisparateImpact {
    ...ThresholdFields
  }
}
fragment RollbackFields on RollbackCriteria {
  rationale
  maxErrorRate {
    ...ThresholdFields
  }
  maxP99LatencyMs {
    ...ThresholdFields
  }
  maxPsiDrift {
    ...ThresholdFields
  }
  minAccuracy {
    ...ThresholdFields
  }
  minAgreementWithLive {
    ...ThresholdFields
  }
  minAuc {
    ...ThresholdFields
  }
  minDisparateImpact {
    ...ThresholdFields
  }
}
fragment RequestStatusFields on PromotionRequest {
  status
  missingRoles
  closeReason
  closedBy
  closedAt
  approvals {
    role
    approver
    approvedAt
    signOff
    statement
  }
}`) as unknown as TypedDocumentString<PromotionRequestReviewQuery, PromotionRequestReviewQueryVariables>;
export const ReviewEvidenceDocument = new TypedDocumentString(`
    query ReviewEvidence($model: String!, $evaluationId: ID!) {
  model(name: $model) {
    owner
    protectedAttributes
    modelCard {
      intendedUse
      limitations
      outOfScopeUses
      trainingData
      ethicalConsiderations
    }
  }
  evaluation(id: $evaluationId) {
    id
    status
    finishedAt
    datasetId
    resultSha256
    performance {
      name
      value
      interval {
        lower
        upper
      }
    }
    fairness {
      attribute
      referenceGroup
      passesFourFifths
      figures {
        name
        value
      }
      groups {
        group
        count
        selectionRate
        truePositiveRate
        falsePositiveRate
        belowMinimumSize
      }
    }
  }
}
    `) as unknown as TypedDocumentString<ReviewEvidenceQuery, ReviewEvidenceQueryVariables>;
export const ApprovePromotionDocument = new TypedDocumentString(`
    mutation ApprovePromotion($id: ID!, $requestDigest: String!, $role: String!, $statement: String) {
  approvePromotion(
    id: $id
    requestDigest: $requestDigest
    role: $role
    statement: $statement
  ) {
    id
    ...RequestStatusFields
    history {
      seq
      hash
      type
      ts
      actor {
        sub
      }
      payload
    }
  }
}
    fragment RequestStatusFields on PromotionRequest {
  status
  missingRoles
  closeReason
  closedBy
  closedAt
  approvals {
    role
    approver
    approvedAt
    signOff
    statement
  }
}`) as unknown as TypedDocumentString<ApprovePromotionMutation, ApprovePromotionMutationVariables>;
export const RejectPromotionDocument = new TypedDocumentString(`
    mutation RejectPromotion($id: ID!, $reason: String!) {
  rejectPromotion(id: $id, reason: $reason) {
    id
    ...RequestStatusFields
  }
}
    fragment RequestStatusFields on PromotionRequest {
  status
  missingRoles
  closeReason
  closedBy
  closedAt
  approvals {
    role
    approver
    approvedAt
    signOff
    statement
  }
}`) as unknown as TypedDocumentString<RejectPromotionMutation, RejectPromotionMutationVariables>;
export const LiveEvaluationDocument = new TypedDocumentString(`
    query LiveEvaluation($model: String!, $version: Int!, $dataset: ID!) {
  modelVersion(model: $model, version: $version) {
    version
    latestEvaluation(dataset: $dataset) {
      id
      finishedAt
      datasetId
      performance {
        name
        value
      }
    }
  }
}
    `) as unknown as TypedDocumentString<LiveEvaluationQuery, LiveEvaluationQueryVariables>;
export const ReportPermissionsDocument = new TypedDocumentString(`
    query ReportPermissions {
  me {
    roles
    abilities {
      action
      subject
    }
  }
}
    `) as unknown as TypedDocumentString<ReportPermissionsQuery, ReportPermissionsQueryVariables>;
export const ExportedReportsDocument = new TypedDocumentString(`
    query ExportedReports($afterSeq: Int!) {
  ledgerEvents(afterSeq: $afterSeq, limit: 200, type: "report.exported") {
    events {
      seq
      ts
      actor {
        sub
      }
      payload
    }
    nextAfterSeq
  }
}
    `) as unknown as TypedDocumentString<ExportedReportsQuery, ExportedReportsQueryVariables>;
export const ExportAuditReportDocument = new TypedDocumentString(`
    mutation ExportAuditReport($subject: String!, $format: ReportFormat!) {
  exportAuditReport(subject: $subject, format: $format) {
    id
    subject
    format
    sha256
    eventCount
    treeSize
    rootHash
    createdAt
    createdBy
  }
}
    `) as unknown as TypedDocumentString<ExportAuditReportMutation, ExportAuditReportMutationVariables>;
export const RolloutListDocument = new TypedDocumentString(`
    query RolloutList($cursor: String) {
  running: rollouts(status: RUNNING, limit: 50) {
    items {
      ...RolloutSummaryFields
    }
    nextCursor
  }
  paused: rollouts(status: PAUSED, limit: 50) {
    items {
      ...RolloutSummaryFields
    }
    nextCursor
  }
  recent: rollouts(limit: 20, cursor: $cursor) {
    items {
      ...RolloutSummaryFields
    }
    nextCursor
  }
}
    fragment RolloutSummaryFields on Rollout {
  id
  endpoint
  strategy
  candidateVersion
  previousVersion
  status
  currentStage
  startedAt
  finishedAt
  stages {
    name
    status
  }
}`) as unknown as TypedDocumentString<RolloutListQuery, RolloutListQueryVariables>;
export const RecentRolloutsDocument = new TypedDocumentString(`
    query RecentRollouts($cursor: String) {
  rollouts(limit: 20, cursor: $cursor) {
    items {
      ...RolloutSummaryFields
    }
    nextCursor
  }
}
    fragment RolloutSummaryFields on Rollout {
  id
  endpoint
  strategy
  candidateVersion
  previousVersion
  status
  currentStage
  startedAt
  finishedAt
  stages {
    name
    status
  }
}`) as unknown as TypedDocumentString<RecentRolloutsQuery, RecentRolloutsQueryVariables>;
export const RolloutWatchDocument = new TypedDocumentString(`
    query RolloutWatch($id: ID!) {
  rollout(id: $id) {
    ...RolloutWatchFields
  }
}
    fragment RolloutWatchFields on Rollout {
  id
  promotionId
  endpoint
  strategy
  candidateVersion
  previousVersion
  status
  currentStage
  startedBy
  startedAt
  updatedAt
  finishedAt
  outcome
  stages {
    name
    kind
    status
    enteredAt
    passedAt
  }
  traffic {
    mode
    liveVersion
    candidateVersion
    candidateWeight
    shadowSample
  }
  progress {
    stage
    decision
    waitingFor
    candidateRequests
    arms {
      arm
      version
      requests
      errors
      errorRate
      p50Ms
      p99Ms
      selectionRate
      agreement
    }
    criteria {
      criterion
      kind
      threshold
      status
      measured
      live
      n
      test
      pValue
      note
    }
  }
  history {
    seq
    ts
    type
    traceId
    actor {
      sub
    }
    payload
  }
}`) as unknown as TypedDocumentString<RolloutWatchQuery, RolloutWatchQueryVariables>;
export const RolloutPermissionsDocument = new TypedDocumentString(`
    query RolloutPermissions {
  me {
    abilities {
      action
      subject
    }
  }
  policies {
    name
    content
  }
}
    `) as unknown as TypedDocumentString<RolloutPermissionsQuery, RolloutPermissionsQueryVariables>;
export const PauseRolloutDocument = new TypedDocumentString(`
    mutation PauseRollout($id: ID!, $reason: String!) {
  pauseRollout(id: $id, reason: $reason) {
    ...RolloutWatchFields
  }
}
    fragment RolloutWatchFields on Rollout {
  id
  promotionId
  endpoint
  strategy
  candidateVersion
  previousVersion
  status
  currentStage
  startedBy
  startedAt
  updatedAt
  finishedAt
  outcome
  stages {
    name
    kind
    status
    enteredAt
    passedAt
  }
  traffic {
    mode
    liveVersion
    candidateVersion
    candidateWeight
    shadowSample
  }
  progress {
    stage
    decision
    waitingFor
    candidateRequests
    arms {
      arm
      version
      requests
      errors
      errorRate
      p50Ms
      p99Ms
      selectionRate
      agreement
    }
    criteria {
      criterion
      kind
      threshold
      status
      measured
      live
      n
      test
      pValue
      note
    }
  }
  history {
    seq
    ts
    type
    traceId
    actor {
      sub
    }
    payload
  }
}`) as unknown as TypedDocumentString<PauseRolloutMutation, PauseRolloutMutationVariables>;
export const AdvanceRolloutDocument = new TypedDocumentString(`
    mutation AdvanceRollout($id: ID!, $reason: String!) {
  advanceRollout(id: $id, reason: $reason) {
    ...RolloutWatchFields
  }
}
    fragment RolloutWatchFields on Rollout {
  id
  promotionId
  endpoint
  strategy
  candidateVersion
  previousVersion
  status
  currentStage
  startedBy
  startedAt
  updatedAt
  finishedAt
  outcome
  stages {
    name
    kind
    status
    enteredAt
    passedAt
  }
  traffic {
    mode
    liveVersion
    candidateVersion
    candidateWeight
    shadowSample
  }
  progress {
    stage
    decision
    waitingFor
    candidateRequests
    arms {
      arm
      version
      requests
      errors
      errorRate
      p50Ms
      p99Ms
      selectionRate
      agreement
    }
    criteria {
      criterion
      kind
      threshold
      status
      measured
      live
      n
      test
      pValue
      note
    }
  }
  history {
    seq
    ts
    type
    traceId
    actor {
      sub
    }
    payload
  }
}`) as unknown as TypedDocumentString<AdvanceRolloutMutation, AdvanceRolloutMutationVariables>;
export const RollbackRolloutDocument = new TypedDocumentString(`
    mutation RollbackRollout($id: ID!, $reason: String!) {
  rollbackRollout(id: $id, reason: $reason) {
    ...RolloutWatchFields
  }
}
    fragment RolloutWatchFields on Rollout {
  id
  promotionId
  endpoint
  strategy
  candidateVersion
  previousVersion
  status
  currentStage
  startedBy
  startedAt
  updatedAt
  finishedAt
  outcome
  stages {
    name
    kind
    status
    enteredAt
    passedAt
  }
  traffic {
    mode
    liveVersion
    candidateVersion
    candidateWeight
    shadowSample
  }
  progress {
    stage
    decision
    waitingFor
    candidateRequests
    arms {
      arm
      version
      requests
      errors
      errorRate
      p50Ms
      p99Ms
      selectionRate
      agreement
    }
    criteria {
      criterion
      kind
      threshold
      status
      measured
      live
      n
      test
      pValue
      note
    }
  }
  history {
    seq
    ts
    type
    traceId
    actor {
      sub
    }
    payload
  }
}`) as unknown as TypedDocumentString<RollbackRolloutMutation, RollbackRolloutMutationVariables>;