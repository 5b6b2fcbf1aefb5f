import { createHash } from 'node:crypto';
import { canonicalize } from '../ledger/canonical-json.js';
import type { RiskTier } from '../policy/risk-tiers.js';
import type { Criteria, RollbackCriteria, RolloutPlan } from './rollout-plan.js';
import type { Strategy } from '../policy/promotion-vocabulary.js';

/**
 * Everything an approver approves. Its SHA-256 over the RFC 8785 form is the request digest:
 * an approval names the digest it saw, so an approval can never be carried over to a request
 * that says anything else. The id and the time are in it too, so two requests with the same
 * wording still have different digests and an approval of one cannot be replayed on the other.
 */
export interface RequestContent {
  readonly id: string;
  readonly endpoint: string;
  readonly model: string;
  readonly riskTier: RiskTier;
  readonly version: number;
  readonly artifactSha256: string;
  /** The version it would replace, as the request was made; null for INITIAL. */
  readonly liveVersion: number | null;
  readonly evaluation: {
    readonly id: string;
    readonly resultSha256: string;
    readonly datasetSha256: string;
  };
  readonly strategy: Strategy;
  readonly plan: RolloutPlan;
  readonly rollbackCriteria: RollbackCriteria;
  readonly successCriteria: Criteria | null;
  readonly justification: string;
  readonly requestedBy: string;
  readonly requestedAt: string;
  /** SHA-256 of policies/promotion.yaml in force when the request was made. */
  readonly policySha256: string;
}

export interface DigestedContent {
  readonly canonical: string;
  readonly sha256: string;
}

export function digestOf(content: unknown): DigestedContent {
  const canonical = canonicalize(content);
  return { canonical, sha256: createHash('sha256').update(canonical, 'utf8').digest('hex') };
}

export function requestDigest(content: RequestContent): DigestedContent {
  return digestOf(content);
}
