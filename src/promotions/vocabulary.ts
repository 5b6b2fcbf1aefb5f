/**
 * A request's life: PENDING until every required role approved, APPROVED until its rollout
 * starts, then COMPLETED (or, with a staged rollout, ROLLING_OUT and then COMPLETED or
 * ROLLED_BACK). REJECTED and WITHDRAWN end it early. An endpoint has at most one open request.
 */
export const PROMOTION_STATUSES = [
  'PENDING',
  'APPROVED',
  'ROLLING_OUT',
  'COMPLETED',
  'ROLLED_BACK',
  'REJECTED',
  'WITHDRAWN',
] as const;
export type PromotionStatus = (typeof PROMOTION_STATUSES)[number];
export const OPEN_STATUSES: readonly PromotionStatus[] = ['PENDING', 'APPROVED', 'ROLLING_OUT'];
