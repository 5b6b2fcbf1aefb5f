import { EndpointsDocument, type EndpointsQuery } from './generated/graphql.js';
import { runOperation } from './graphql-client.js';

export type EndpointRow = EndpointsQuery['endpoints']['items'][number];

export interface EndpointOverview {
  readonly endpoints: readonly EndpointRow[];
  /** More endpoints exist than one read returns. */
  readonly more: boolean;
  /** The rollout in progress (running or paused) on each endpoint that has one. */
  readonly activeRollouts: ReadonlyMap<string, { readonly id: string; readonly status: string }>;
}

/** Every endpoint's traffic and drift, with the rollout under way on it. */
export async function endpointOverview(csrfToken: string): Promise<EndpointOverview> {
  const data = await runOperation(EndpointsDocument, {}, csrfToken);
  const activeRollouts = new Map<string, { id: string; status: string }>();
  for (const request of data.promotionRequests.items) {
    if (request.rollout) activeRollouts.set(request.endpoint, request.rollout);
  }
  return {
    endpoints: data.endpoints.items,
    more: data.endpoints.nextCursor != null,
    activeRollouts,
  };
}
