import { PendingPromotionsDocument, type PendingPromotionsQuery } from './generated/graphql.js';
import { runOperation } from './graphql-client.js';

export type PendingPromotion = PendingPromotionsQuery['promotionRequests']['items'][number];

/** Every PENDING promotion request, oldest first, read page by page to the end. */
export async function pendingPromotions(csrfToken: string): Promise<PendingPromotion[]> {
  const all: PendingPromotion[] = [];
  let cursor: string | null = null;
  do {
    // No cursor is no `cursor` at all, as for the first page.
    const variables: { cursor?: string } = cursor === null ? {} : { cursor };
    const data = await runOperation(PendingPromotionsDocument, variables, csrfToken);
    all.push(...data.promotionRequests.items);
    cursor = data.promotionRequests.nextCursor ?? null;
  } while (cursor !== null);
  return all;
}
