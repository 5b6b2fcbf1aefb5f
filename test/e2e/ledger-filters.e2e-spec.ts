import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { LedgerService } from '../../src/ledger/ledger.service.js';
import { startTestApp, type GraphQLResponse, type TestApp } from '../support/app.js';
import { testEvent } from '../support/test-event.js';

/**
 * `ledgerEvents` filtered by actor and by a window of time (docs/ledger.md, "Reading and
 * exporting"), alone and with the subject filter, paged by seq; and refused bad bounds.
 */

interface Row {
  readonly seq: number;
  readonly ts: string;
  readonly subject: string;
  readonly actor: { readonly sub: string };
}

interface Page {
  ledgerEvents: { events: Row[]; nextAfterSeq: number | null };
}

const QUERY = `query($after: Int!, $limit: Int!, $subject: String, $actor: String, $from: DateTime, $to: DateTime) {
  ledgerEvents(afterSeq: $after, limit: $limit, subject: $subject, actor: $actor, from: $from, to: $to) {
    events { seq ts subject actor { sub } } nextAfterSeq } }`;

describe('ledger event filters', () => {
  let app: TestApp;
  let auditor: string;
  let all: Row[];

  /** Every event the filter selects, read page by page through nextAfterSeq. */
  async function everyPage(filter: Record<string, unknown>, limit = 3): Promise<number[]> {
    const seqs: number[] = [];
    let after: number | null = 0;
    while (after !== null) {
      const res: GraphQLResponse<Page> = await app.gql<Page>(
        QUERY,
        { after, limit, ...filter },
        auditor,
      );
      expect(res.errors).toBeUndefined();
      const page: Page['ledgerEvents'] = res.data!.ledgerEvents;
      expect(page.events.length).toBeLessThanOrEqual(limit);
      seqs.push(...page.events.map((e) => e.seq));
      after = page.nextAfterSeq;
    }
    return seqs;
  }

  beforeAll(async () => {
    app = await startTestApp({ GATEHOUSE_CHECKPOINT_INTERVAL_SECONDS: '0' });
    auditor = await app.token('audrey', 'auditor');
    const ledger = app.running.app.get(LedgerService);
    // Three rounds, each a millisecond later than the last, so the window below has edges
    // that fall between events whatever the machine's speed.
    for (let round = 0; round < 3; round++) {
      const start = Date.now();
      while (Date.now() <= start + 1) await new Promise((resolve) => setImmediate(resolve));
      for (const [i, sub] of ['alice', 'bob', 'alice', 'carol', 'bob'].entries()) {
        await ledger.transaction((tx) => {
          tx.record(testEvent(`model:m@${i % 2}`, { sub, roles: ['data-scientist'] }, { round }));
        });
      }
    }
    const res = await app.gql<Page>(QUERY, { after: 0, limit: 100 }, auditor);
    expect(res.errors).toBeUndefined();
    all = res.data!.ledgerEvents.events;
  });

  afterAll(async () => {
    await app.close();
  });

  it('selects one actor’s events, page by page in seq order', async () => {
    const expected = all.filter((e) => e.actor.sub === 'bob').map((e) => e.seq);
    expect(expected).toHaveLength(6);
    expect(await everyPage({ actor: 'bob' })).toEqual(expected);
    expect(await everyPage({ actor: 'nobody' })).toEqual([]);
  });

  it('selects a window of time, from inclusive and to exclusive, with the other filters', async () => {
    const instants = [...new Set(all.map((e) => e.ts))].sort();
    expect(instants.length).toBeGreaterThan(3);
    const from = instants[1]!;
    const to = instants[instants.length - 2]!;
    const inWindow = (e: Row): boolean => e.ts >= from && e.ts < to;
    const expected = all.filter(inWindow).map((e) => e.seq);
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.length).toBeLessThan(all.length);
    expect(await everyPage({ from, to })).toEqual(expected);
    // An event at exactly `from` is in, one at exactly `to` is out.
    expect(all.some((e) => e.ts === from && expected.includes(e.seq))).toBe(true);
    expect(all.some((e) => e.ts === to && !expected.includes(e.seq))).toBe(true);

    expect(await everyPage({ from })).toEqual(all.filter((e) => e.ts >= from).map((e) => e.seq));
    expect(await everyPage({ to })).toEqual(all.filter((e) => e.ts < to).map((e) => e.seq));
    const combined = all
      .filter((e) => inWindow(e) && e.actor.sub === 'alice' && e.subject === 'model:m@0')
      .map((e) => e.seq);
    expect(combined.length).toBeGreaterThan(0);
    expect(await everyPage({ from, to, actor: 'alice', subject: 'model:m@0' }, 1)).toEqual(
      combined,
    );
  });

  it('refuses a date that is no date, and a window that ends before it starts, naming the field', async () => {
    const bad = await app.gql(QUERY, { after: 0, limit: 5, from: 'last tuesday' }, auditor);
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(bad.errors?.[0]?.message).toMatch(/^from: must be an RFC 3339 date-time/);

    const literal = await app.gql(
      '{ ledgerEvents(to: "2026-13-45T00:00:00Z") { events { seq } } }',
      {},
      auditor,
    );
    expect(literal.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(literal.errors?.[0]?.message).toMatch(/^to: must be an RFC 3339 date-time/);

    const reversed = await app.gql(
      QUERY,
      { after: 0, limit: 5, from: '2026-12-02T00:00:00Z', to: '2026-12-01T00:00:00Z' },
      auditor,
    );
    expect(reversed.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(reversed.errors?.[0]?.message).toBe(
      'from: must be before to (2026-12-02T00:00:00.000Z is not before 2026-12-01T00:00:00.000Z)',
    );
    const empty = await app.gql(
      QUERY,
      { after: 0, limit: 5, from: '2026-12-01T00:00:00Z', to: '2026-12-01T00:00:00Z' },
      auditor,
    );
    expect(empty.errors?.[0]?.message).toMatch(/^from: must be before to/);
  });

  it('matches an actor exactly as written, escapes and all, whatever else the event holds', async () => {
    const sub = 'zoë "q" \\ x';
    const ledger = app.running.app.get(LedgerService);
    // Last, as it adds events the window tests above do not expect. A NUL in the payload,
    // which no entry point lets in: the actor index must still not refuse the append (a cast
    // of the canonical text to jsonb would).
    await ledger.transaction((tx) => {
      tx.record(testEvent('model:m@9', { sub, roles: ['a]"b'] }, { note: 'nul \u0000 here' }));
    });
    await ledger.transaction((tx) => {
      tx.record(testEvent('model:m@9', { sub: 'zoë' }, {}));
    });
    const res = await app.gql<Page>(QUERY, { after: 0, limit: 100, actor: sub }, auditor);
    expect(res.errors).toBeUndefined();
    expect(res.data!.ledgerEvents.events.map((e) => [e.subject, e.actor.sub])).toEqual([
      ['model:m@9', sub],
    ]);
    const plain = await app.gql<Page>(QUERY, { after: 0, limit: 100, actor: 'zoë' }, auditor);
    expect(plain.data!.ledgerEvents.events.map((e) => e.actor.sub)).toEqual(['zoë']);
  });
});
