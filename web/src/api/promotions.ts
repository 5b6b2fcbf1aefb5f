import {
  ApprovePromotionDocument,
  LiveEvaluationDocument,
  PendingPromotionsDocument,
  PromotionRequestReviewDocument,
  RejectPromotionDocument,
  ReviewEvidenceDocument,
  type ApprovePromotionMutation,
  type LiveEvaluationQuery,
  type PendingPromotionsQuery,
  type PromotionRequestReviewQuery,
  type ReviewEvidenceQuery,
} from '../../../src/client/generated/graphql.js';
import { runOperation } from './graphql-client.js';
import { ProblemError } from './problem.js';

export type PendingPromotion = PendingPromotionsQuery['promotionRequests']['items'][number];
export type PromotionReview = NonNullable<PromotionRequestReviewQuery['promotionRequest']>;
export type RequestStatus = Pick<
  PromotionReview,
  'status' | 'missingRoles' | 'closeReason' | 'closedBy' | 'closedAt' | 'approvals'
>;
export type Ability = PromotionRequestReviewQuery['me']['abilities'][number];
export type PolicyDocument = PromotionRequestReviewQuery['policies'][number];
export type ReviewEvidence = ReviewEvidenceQuery;

/**
 * Every PENDING promotion request, oldest first, one page at a time to the end: a caller can
 * show the first page while the rest are read.
 */
export async function* pendingPromotionPages(
  csrfToken: string,
): AsyncGenerator<PendingPromotion[], void, undefined> {
  let cursor: string | null = null;
  do {
    // No cursor is no `cursor` at all, as for the first page.
    const variables: { cursor?: string } = cursor === null ? {} : { cursor };
    const data = await runOperation(PendingPromotionsDocument, variables, csrfToken);
    yield data.promotionRequests.items;
    cursor = data.promotionRequests.nextCursor ?? null;
  } while (cursor !== null);
}

/** A request as its signer reviews it, what the caller may do, and the policies in force. */
export async function promotionReview(
  csrfToken: string,
  id: string,
): Promise<{
  request: PromotionReview;
  abilities: readonly Ability[];
  policies: readonly PolicyDocument[];
}> {
  const data = await runOperation(PromotionRequestReviewDocument, { id }, csrfToken);
  if (!data.promotionRequest) {
    throw new ProblemError({ code: 'NOT_FOUND', message: `There is no promotion request ${id}.` });
  }
  return { request: data.promotionRequest, abilities: data.me.abilities, policies: data.policies };
}

/** The model card and the evaluation a request names. */
export function reviewEvidence(
  csrfToken: string,
  model: string,
  evaluationId: string,
): Promise<ReviewEvidence> {
  return runOperation(ReviewEvidenceDocument, { model, evaluationId }, csrfToken);
}

export type LiveEvaluation = NonNullable<LiveEvaluationQuery['modelVersion']>['latestEvaluation'];

/** The latest successful evaluation of the live version on a dataset; null when it has none. */
export async function liveEvaluation(
  csrfToken: string,
  model: string,
  version: number,
  dataset: string,
): Promise<LiveEvaluation> {
  const data = await runOperation(LiveEvaluationDocument, { model, version, dataset }, csrfToken);
  if (!data.modelVersion) {
    throw new ProblemError({
      code: 'NOT_FOUND',
      message: `There is no version ${version} of ${model}.`,
    });
  }
  return data.modelVersion.latestEvaluation ?? null;
}

/** Where the approval stands in the ledger: its `promotion.approval.recorded` event. */
export interface ApprovalReceipt {
  readonly seq: number;
  readonly hash: string;
  readonly ts: string;
  readonly role: string;
}

type HistoryEvent = ApprovePromotionMutation['approvePromotion']['history'][number];

/** The signer's approval event in a request's history: the last one recorded for that role. */
export function approvalReceiptOf(
  history: readonly HistoryEvent[],
  subject: string,
  role: string,
): ApprovalReceipt | null {
  const event = history.findLast(
    (candidate) =>
      candidate.type === 'promotion.approval.recorded' &&
      candidate.actor.sub === subject &&
      candidate.payload['role'] === role,
  );
  return event ? { seq: event.seq, hash: event.hash, ts: event.ts, role } : null;
}

export interface Approval {
  readonly id: string;
  readonly requestDigest: string;
  readonly role: string;
  /** Empty is no statement. */
  readonly statement: string;
}

/** Approves, and finds the approval's ledger event in the request's history it answers. */
export async function approvePromotion(
  csrfToken: string,
  subject: string,
  approval: Approval,
): Promise<{ status: RequestStatus; receipt: ApprovalReceipt | null }> {
  const { statement, ...rest } = approval;
  const variables = statement.trim() === '' ? rest : { ...rest, statement };
  const data = await runOperation(ApprovePromotionDocument, variables, csrfToken);
  const answer = data.approvePromotion;
  return { status: answer, receipt: approvalReceiptOf(answer.history, subject, approval.role) };
}

export async function rejectPromotion(
  csrfToken: string,
  id: string,
  reason: string,
): Promise<RequestStatus> {
  const data = await runOperation(RejectPromotionDocument, { id, reason }, csrfToken);
  return data.rejectPromotion;
}
