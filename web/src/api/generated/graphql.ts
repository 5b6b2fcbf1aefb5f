/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
/** INITIAL: the first version of an endpoint (gates and approvals, then live). The others replace a live version in stages. */
export type PromotionStrategy =
  | 'AB_TEST'
  | 'BLUE_GREEN'
  | 'CANARY'
  | 'INITIAL'
  | 'SHADOW'
  | 'SHADOW_THEN_CANARY';

/** How much harm a wrong decision can do; HIGH needs the strictest promotion. */
export type RiskTier =
  | 'HIGH'
  | 'LOW'
  | 'MEDIUM';

export type RolloutStatus =
  | 'COMPLETED'
  | 'FAILED'
  | 'PAUSED'
  | 'ROLLED_BACK'
  | 'RUNNING';

/** How a candidate version takes traffic: NONE, SHADOW (mirrored, never answers), or a weighted split by routing key. */
export type TrafficMode =
  | 'AB_TEST'
  | 'BLUE_GREEN'
  | 'CANARY'
  | 'NONE'
  | 'SHADOW';

export type EndpointsQueryVariables = Exact<{ [key: string]: never; }>;


export type EndpointsQuery = { endpoints: { nextCursor: string | null, items: Array<{ name: string, model: string, liveVersion: number | null, candidateVersion: number | null, standbyVersion: number | null, mode: TrafficMode, candidateWeight: number, shadowSample: number, revision: number, updatedAt: string, drift: { alerting: boolean, since: string | null, checkedAt: string, version: number, scorePsi: number | null, threshold: number, rows: number, features: Array<{ feature: string, psi: number }> } | null }> }, promotionRequests: { items: Array<{ endpoint: string, rollout: { id: string, status: RolloutStatus } | null }> } };

export type LedgerEventsQueryVariables = Exact<{
  afterSeq: number;
  limit: number;
  type?: string | null | undefined;
}>;


export type LedgerEventsQuery = { ledgerEvents: { nextAfterSeq: number | null, events: Array<{ seq: number, id: string, ts: string, type: string, subject: string, hash: string, actor: { sub: string, roles: Array<string> | null } }> } };

export type LedgerIntegrityQueryVariables = Exact<{ [key: string]: never; }>;


export type LedgerIntegrityQuery = { verifyLedger: { ok: boolean, fromSeq: number, toSeq: number, eventsChecked: number, signaturesChecked: number, checkpointsChecked: number, durationMs: number, failure: { seq: number, reason: string, detail: string } | null }, ledgerCheckpoint: { treeSize: number, rootHash: string, ts: string } | null };

export type PendingPromotionsQueryVariables = Exact<{
  cursor?: string | null | undefined;
}>;


export type PendingPromotionsQuery = { promotionRequests: { nextCursor: string | null, items: Array<{ id: string, model: string, version: number, endpoint: string, riskTier: RiskTier, strategy: PromotionStrategy, requestedBy: string, createdAt: string, requiredRoles: Array<string>, missingRoles: Array<string>, approvals: Array<{ role: string, approver: string }> }> } };

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

export const EndpointsDocument = new TypedDocumentString(`
    query Endpoints {
  endpoints(limit: 200) {
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
  promotionRequests(status: ROLLING_OUT, limit: 200) {
    items {
      endpoint
      rollout {
        id
        status
      }
    }
  }
}
    `) as unknown as TypedDocumentString<EndpointsQuery, EndpointsQueryVariables>;
export const LedgerEventsDocument = new TypedDocumentString(`
    query LedgerEvents($afterSeq: Int!, $limit: Int!, $type: String) {
  ledgerEvents(afterSeq: $afterSeq, limit: $limit, type: $type) {
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