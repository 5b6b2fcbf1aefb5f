/* eslint-disable */
import * as types from './graphql';



/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "query Endpoints {\n  endpoints(limit: 200) {\n    items {\n      name\n      model\n      liveVersion\n      candidateVersion\n      standbyVersion\n      mode\n      candidateWeight\n      shadowSample\n      revision\n      updatedAt\n      drift {\n        alerting\n        since\n        checkedAt\n        version\n        scorePsi\n        threshold\n        rows\n        features {\n          feature\n          psi\n        }\n      }\n    }\n    nextCursor\n  }\n  promotionRequests(status: ROLLING_OUT, limit: 200) {\n    items {\n      endpoint\n      rollout {\n        id\n        status\n      }\n    }\n  }\n}": typeof types.EndpointsDocument,
    "query LedgerEvents($afterSeq: Int!, $limit: Int!, $type: String) {\n  ledgerEvents(afterSeq: $afterSeq, limit: $limit, type: $type) {\n    events {\n      seq\n      id\n      ts\n      type\n      subject\n      hash\n      actor {\n        sub\n        roles\n      }\n    }\n    nextAfterSeq\n  }\n}\n\nquery LedgerIntegrity {\n  verifyLedger {\n    ok\n    fromSeq\n    toSeq\n    eventsChecked\n    signaturesChecked\n    checkpointsChecked\n    durationMs\n    failure {\n      seq\n      reason\n      detail\n    }\n  }\n  ledgerCheckpoint {\n    treeSize\n    rootHash\n    ts\n  }\n}": typeof types.LedgerEventsDocument,
    "query PendingPromotions($cursor: String) {\n  promotionRequests(status: PENDING, limit: 200, cursor: $cursor) {\n    items {\n      id\n      model\n      version\n      endpoint\n      riskTier\n      strategy\n      requestedBy\n      createdAt\n      requiredRoles\n      missingRoles\n      approvals {\n        role\n        approver\n      }\n    }\n    nextCursor\n  }\n}": typeof types.PendingPromotionsDocument,
};
const documents: Documents = {
    "query Endpoints {\n  endpoints(limit: 200) {\n    items {\n      name\n      model\n      liveVersion\n      candidateVersion\n      standbyVersion\n      mode\n      candidateWeight\n      shadowSample\n      revision\n      updatedAt\n      drift {\n        alerting\n        since\n        checkedAt\n        version\n        scorePsi\n        threshold\n        rows\n        features {\n          feature\n          psi\n        }\n      }\n    }\n    nextCursor\n  }\n  promotionRequests(status: ROLLING_OUT, limit: 200) {\n    items {\n      endpoint\n      rollout {\n        id\n        status\n      }\n    }\n  }\n}": types.EndpointsDocument,
    "query LedgerEvents($afterSeq: Int!, $limit: Int!, $type: String) {\n  ledgerEvents(afterSeq: $afterSeq, limit: $limit, type: $type) {\n    events {\n      seq\n      id\n      ts\n      type\n      subject\n      hash\n      actor {\n        sub\n        roles\n      }\n    }\n    nextAfterSeq\n  }\n}\n\nquery LedgerIntegrity {\n  verifyLedger {\n    ok\n    fromSeq\n    toSeq\n    eventsChecked\n    signaturesChecked\n    checkpointsChecked\n    durationMs\n    failure {\n      seq\n      reason\n      detail\n    }\n  }\n  ledgerCheckpoint {\n    treeSize\n    rootHash\n    ts\n  }\n}": types.LedgerEventsDocument,
    "query PendingPromotions($cursor: String) {\n  promotionRequests(status: PENDING, limit: 200, cursor: $cursor) {\n    items {\n      id\n      model\n      version\n      endpoint\n      riskTier\n      strategy\n      requestedBy\n      createdAt\n      requiredRoles\n      missingRoles\n      approvals {\n        role\n        approver\n      }\n    }\n    nextCursor\n  }\n}": types.PendingPromotionsDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query Endpoints {\n  endpoints(limit: 200) {\n    items {\n      name\n      model\n      liveVersion\n      candidateVersion\n      standbyVersion\n      mode\n      candidateWeight\n      shadowSample\n      revision\n      updatedAt\n      drift {\n        alerting\n        since\n        checkedAt\n        version\n        scorePsi\n        threshold\n        rows\n        features {\n          feature\n          psi\n        }\n      }\n    }\n    nextCursor\n  }\n  promotionRequests(status: ROLLING_OUT, limit: 200) {\n    items {\n      endpoint\n      rollout {\n        id\n        status\n      }\n    }\n  }\n}"): typeof import('./graphql').EndpointsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query LedgerEvents($afterSeq: Int!, $limit: Int!, $type: String) {\n  ledgerEvents(afterSeq: $afterSeq, limit: $limit, type: $type) {\n    events {\n      seq\n      id\n      ts\n      type\n      subject\n      hash\n      actor {\n        sub\n        roles\n      }\n    }\n    nextAfterSeq\n  }\n}\n\nquery LedgerIntegrity {\n  verifyLedger {\n    ok\n    fromSeq\n    toSeq\n    eventsChecked\n    signaturesChecked\n    checkpointsChecked\n    durationMs\n    failure {\n      seq\n      reason\n      detail\n    }\n  }\n  ledgerCheckpoint {\n    treeSize\n    rootHash\n    ts\n  }\n}"): typeof import('./graphql').LedgerEventsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query PendingPromotions($cursor: String) {\n  promotionRequests(status: PENDING, limit: 200, cursor: $cursor) {\n    items {\n      id\n      model\n      version\n      endpoint\n      riskTier\n      strategy\n      requestedBy\n      createdAt\n      requiredRoles\n      missingRoles\n      approvals {\n        role\n        approver\n      }\n    }\n    nextCursor\n  }\n}"): typeof import('./graphql').PendingPromotionsDocument;


export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}
