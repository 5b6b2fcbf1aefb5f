/**
 * How much harm a model can do, set on the model when it is registered: the promotion policy
 * chooses approvals, gates and rollout strategies per tier.
 */
export const RISK_TIERS = ['LOW', 'MEDIUM', 'HIGH'] as const;
export type RiskTier = (typeof RISK_TIERS)[number];
