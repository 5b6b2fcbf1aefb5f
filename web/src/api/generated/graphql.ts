/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
export type LedgerEventsQueryVariables = Exact<{
  afterSeq: number;
  limit: number;
  type?: string | null | undefined;
}>;


export type LedgerEventsQuery = { ledgerEvents: { nextAfterSeq: number | null, events: Array<{ seq: number, id: string, ts: string, type: string, subject: string, hash: string, actor: { sub: string, roles: Array<string> | null } }> } };

export type LedgerIntegrityQueryVariables = Exact<{ [key: string]: never; }>;


export type LedgerIntegrityQuery = { verifyLedger: { ok: boolean, fromSeq: number, toSeq: number, eventsChecked: number, signaturesChecked: number, checkpointsChecked: number, durationMs: number, failure: { seq: number, reason: string, detail: string } | null }, ledgerCheckpoint: { treeSize: number, rootHash: string, ts: string } | null };

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