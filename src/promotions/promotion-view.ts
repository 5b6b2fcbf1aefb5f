import type { GateEvaluationEntity } from './gate-evaluation.entity.js';
import type { PromotionApprovalEntity } from './promotion-approval.entity.js';
import type { PromotionRequestEntity } from './promotion-request.entity.js';
import type {
  GateEvaluationModel,
  PromotionApprovalModel,
  PromotionRequestModel,
} from './promotion.model.js';
import { missingRoles } from './separation-of-duties.js';

/** A request as GraphQL shows it: its content, its status and the approvals so far. */
export function promotionView(
  row: PromotionRequestEntity,
  approvals: readonly PromotionApprovalEntity[],
): PromotionRequestModel {
  const c = row.content;
  const counted = approvals.filter((a) => a.requestSha256 === row.requestSha256);
  return {
    id: row.id,
    endpoint: c.endpoint,
    model: c.model,
    version: c.version,
    riskTier: row.riskTier,
    artifactSha256: c.artifactSha256,
    liveVersion: row.liveVersion,
    evaluationId: c.evaluation.id,
    evaluationResultSha256: c.evaluation.resultSha256,
    strategy: row.strategy,
    plan: { ...c.plan },
    rollbackCriteria: { ...c.rollbackCriteria },
    successCriteria: c.successCriteria ? { ...c.successCriteria } : null,
    justification: c.justification,
    requestDigest: row.requestSha256,
    content: { ...c },
    policySha256: row.policySha256,
    judgedUnderPolicySha256: row.judgedPolicySha256,
    status: row.status,
    // The roles the status was decided on, so that status and missingRoles always agree.
    requiredRoles: [...row.requiredRoles],
    missingRoles: missingRoles(row.requiredRoles, counted),
    approvals: approvals.map(approvalView),
    requestedBy: row.requestedBy,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    closedAt: row.closedAt,
    closedBy: row.closedBy,
    closeReason: row.closeReason,
  };
}

export function approvalView(a: PromotionApprovalEntity): PromotionApprovalModel {
  return {
    role: a.role,
    approver: a.approver,
    approverRoles: a.approverRoles,
    requestDigest: a.requestSha256,
    statement: a.statement,
    signOff: a.signOff,
    policySha256: a.policySha256,
    approvedAt: a.createdAt,
  };
}

export function gateEvaluationView(g: GateEvaluationEntity): GateEvaluationModel {
  return {
    id: g.id,
    promotionId: g.promotionId,
    passed: g.passed,
    purpose: g.purpose,
    gates: g.gates.map((r) => ({ ...r })),
    failedGates: g.gates.filter((r) => !r.passed).map((r) => r.gate),
    evidenceSha256: g.evidenceSha256,
    policySha256: g.policySha256,
    requestDigest: g.requestSha256,
    evaluatedBy: g.evaluatedBy,
    evaluatedAt: g.createdAt,
  };
}
