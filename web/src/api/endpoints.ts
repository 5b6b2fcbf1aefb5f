import {
  ActiveRolloutsDocument,
  EndpointsDocument,
  type EndpointsQuery,
} from '../../../src/client/generated/graphql.js';
import { runOperation } from './graphql-client.js';

export type EndpointRow = EndpointsQuery['endpoints']['items'][number];

/** The endpoints one page shows. */
export const ENDPOINT_PAGE_SIZE = 50;

export interface EndpointOverview {
  readonly endpoints: readonly EndpointRow[];
  /** The cursor of the page after this one; null on the last page. */
  readonly nextCursor: string | null;
  /** The rollout in progress (running or paused) on each endpoint that has one. */
  readonly activeRollouts: ReadonlyMap<string, { readonly id: string; readonly status: string }>;
}

/**
 * One page of endpoints with their traffic and drift, and the rollout under way on each. The
 * rollouts are read to the end: an endpoint has at most one, so they are never many more than
 * the endpoints, and a page must not call an endpoint idle because its rollout was on a later
 * page of requests.
 */
export async function endpointOverview(
  csrfToken: string,
  cursor: string | null,
): Promise<EndpointOverview> {
  const [data, activeRollouts] = await Promise.all([
    runOperation(EndpointsDocument, cursor === null ? {} : { cursor }, csrfToken),
    rolloutsUnderWay(csrfToken),
  ]);
  return {
    endpoints: data.endpoints.items,
    nextCursor: data.endpoints.nextCursor ?? null,
    activeRollouts,
  };
}

async function rolloutsUnderWay(
  csrfToken: string,
): Promise<Map<string, { id: string; status: string }>> {
  const found = new Map<string, { id: string; status: string }>();
  let cursor: string | null = null;
  do {
    // No cursor is no `cursor` at all, as for the first page.
    const variables: { cursor?: string } = cursor === null ? {} : { cursor };
    const data = await runOperation(ActiveRolloutsDocument, variables, csrfToken);
    for (const request of data.promotionRequests.items) {
      if (request.rollout) found.set(request.endpoint, request.rollout);
    }
    cursor = data.promotionRequests.nextCursor ?? null;
  } while (cursor !== null);
  return found;
}
