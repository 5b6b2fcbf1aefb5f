import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { pendingPromotionPages } from './promotions.js';

/** A stand-in for the service: the pending requests in pages of two, by cursor. */
function serviceWithPages(ids: readonly string[]) {
  const sent: { cursor?: string }[] = [];
  const fetchStub = jest.fn(async (_url: unknown, init?: { body?: unknown }) => {
    const { variables } = JSON.parse(String(init?.body)) as { variables: { cursor?: string } };
    sent.push(variables);
    const from = variables.cursor === undefined ? 0 : Number(variables.cursor);
    const items = ids.slice(from, from + 2).map((id) => ({ id }));
    const nextCursor = from + 2 < ids.length ? String(from + 2) : null;
    await Promise.resolve();
    return new Response(JSON.stringify({ data: { promotionRequests: { items, nextCursor } } }), {
      headers: { 'content-type': 'application/json' },
    });
  });
  return { fetchStub, sent };
}

describe('the pending requests, a page at a time', () => {
  const realFetch = globalThis.fetch;
  afterEach(() => {
    globalThis.fetch = realFetch;
  });

  it('yields each page as it comes, to the last, the first without a cursor', async () => {
    const { fetchStub, sent } = serviceWithPages(['a', 'b', 'c', 'd', 'e']);
    globalThis.fetch = fetchStub;
    const pages: string[][] = [];
    for await (const page of pendingPromotionPages('csrf'))
      pages.push(page.map((request) => request.id));
    expect(pages).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
    expect(sent).toEqual([{}, { cursor: '2' }, { cursor: '4' }]);
  });

  it('reads no further page once the reader stops', async () => {
    const { fetchStub } = serviceWithPages(['a', 'b', 'c', 'd', 'e']);
    globalThis.fetch = fetchStub;
    for await (const page of pendingPromotionPages('csrf')) {
      expect(page).toHaveLength(2);
      break;
    }
    expect(fetchStub).toHaveBeenCalledTimes(1);
  });
});
