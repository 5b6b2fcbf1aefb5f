import { describe, expect, it } from '@jest/globals';
import { checkChain, type ChainRow } from './chain-verify.js';
import {
  GENESIS_PREV,
  canonicalEvent,
  validateEventShape,
  type LedgerEvent,
} from './ledger-event.js';
import { eventHash } from './event-hash.js';

interface Row {
  seq: number | string;
  event: Record<string, unknown>;
  canonical?: string;
  hash: string;
  jws: string;
}

/** A valid chain of `n` events, as the append path would write it. */
function buildChain(n: number, firstSeq = 1, prev = GENESIS_PREV): Row[] {
  const rows: Row[] = [];
  for (let seq = firstSeq; seq < firstSeq + n; seq++) {
    const event: LedgerEvent = {
      v: 1,
      seq,
      id: `00000000-0000-4000-8000-${seq.toString(16).padStart(12, '0')}`,
      ts: new Date(Date.UTC(2026, 10, 29, 0, 0, 0, seq)).toISOString(),
      type: seq % 2 ? 'promotion.approved' : 'gate.evaluated',
      actor: seq % 3 ? { sub: 'alice', roles: ['ml-engineer'] } : { sub: 'system:rollout' },
      subject: `promotion:${seq % 7}`,
      payload: { role: 'ml-engineer', passed: seq % 5 !== 0, score: seq / 3 },
      traceId: seq % 4 ? 'ab'.repeat(16) : null,
      prev,
    };
    const canonical = canonicalEvent(event);
    prev = eventHash(canonical);
    rows.push({
      seq,
      event: JSON.parse(canonical) as Record<string, unknown>,
      canonical,
      hash: prev,
      jws: 'h..s',
    });
  }
  return rows;
}

const START = { expectedSeq: 1, prevHash: GENESIS_PREV };

describe('checkChain', () => {
  it('accepts an untouched chain and returns its last hash', () => {
    const rows = buildChain(50);
    expect(checkChain(rows, START)).toEqual({ ok: true, count: 50, lastHash: rows[49]!.hash });
  });

  it('accepts an empty batch', () => {
    expect(checkChain([], START)).toEqual({ ok: true, count: 0, lastHash: GENESIS_PREV });
  });

  it('continues from one batch to the next', () => {
    const rows = buildChain(30);
    const first = checkChain(rows.slice(0, 12), START);
    expect(first.ok).toBe(true);
    if (!first.ok) return;
    const second = checkChain(rows.slice(12), { expectedSeq: 13, prevHash: first.lastHash });
    expect(second).toEqual({ ok: true, count: 18, lastHash: rows[29]!.hash });
    // Starting mid-ledger from the wrong hash is a broken link.
    expect(checkChain(rows.slice(12), { expectedSeq: 13, prevHash: GENESIS_PREV })).toMatchObject({
      ok: false,
      seq: 13,
      reason: 'broken link',
    });
  });

  it('accepts seq as a string (PostgreSQL bigint) and rows without canonical text', () => {
    const rows = buildChain(5).map(({ canonical: _canonical, ...row }) => ({
      ...row,
      seq: String(row.seq),
    }));
    expect(checkChain(rows, START)).toMatchObject({ ok: true, count: 5 });
  });

  it('works from a generator', () => {
    const rows = buildChain(10);
    function* stream(): Generator<ChainRow> {
      yield* rows;
    }
    expect(checkChain(stream(), START)).toMatchObject({ ok: true, count: 10 });
  });

  it('detects a changed payload as a hash mismatch', () => {
    const rows = buildChain(10);
    (rows[6]!.event['payload'] as Record<string, unknown>)['score'] = 99;
    delete rows[6]!.canonical;
    expect(checkChain(rows, START)).toMatchObject({ ok: false, seq: 7, reason: 'hash mismatch' });
  });

  it('detects a changed actor as a hash mismatch', () => {
    const rows = buildChain(10);
    rows[3]!.event['actor'] = { sub: 'mallory', roles: ['compliance-officer'] };
    expect(checkChain(rows, START)).toMatchObject({ ok: false, seq: 4, reason: 'hash mismatch' });
  });

  it('detects an event edited together with its canonical text', () => {
    const rows = buildChain(10);
    rows[3]!.event['subject'] = 'promotion:other';
    rows[3]!.canonical = canonicalEvent(validateEventShape(rows[3]!.event));
    expect(checkChain(rows, START)).toMatchObject({ ok: false, seq: 4, reason: 'hash mismatch' });
  });

  it('detects a rewritten row whose hash was recomputed at the next link', () => {
    const rows = buildChain(10);
    const row = rows[3]!;
    row.event['subject'] = 'promotion:other';
    row.canonical = canonicalEvent(validateEventShape(row.event));
    row.hash = eventHash(row.canonical);
    expect(checkChain(rows, START)).toMatchObject({ ok: false, seq: 5, reason: 'broken link' });
  });

  it('detects a changed stored hash', () => {
    const rows = buildChain(10);
    rows[8]!.hash = 'f'.repeat(64);
    expect(checkChain(rows, START)).toMatchObject({ ok: false, seq: 9, reason: 'hash mismatch' });
  });

  it('detects a deleted row as a gap naming the missing seq', () => {
    const rows = buildChain(10);
    rows.splice(4, 1);
    expect(checkChain(rows, START)).toMatchObject({
      ok: false,
      seq: 5,
      reason: 'gap',
      detail: 'expected seq 5, found 6',
    });
  });

  it('detects swapped rows', () => {
    const rows = buildChain(10);
    [rows[2], rows[3]] = [rows[3]!, rows[2]!];
    expect(checkChain(rows, START)).toMatchObject({ ok: false, seq: 3, reason: 'gap' });
  });

  it('names swapped rows, renumbered to hide the gap, a broken link', () => {
    const rows = buildChain(10);
    [rows[2], rows[3]] = [rows[3]!, rows[2]!];
    rows[2].seq = 3;
    rows[3].seq = 4;
    expect(checkChain(rows, START)).toMatchObject({ ok: false, seq: 3, reason: 'broken link' });
  });

  it('detects a changed prev as a broken link', () => {
    const rows = buildChain(10);
    rows[5]!.event['prev'] = rows[3]!.hash;
    expect(checkChain(rows, START)).toMatchObject({ ok: false, seq: 6, reason: 'broken link' });
  });

  it('detects a chain that does not start at genesis', () => {
    const rows = buildChain(3, 1, 'a'.repeat(64));
    expect(checkChain(rows, START)).toMatchObject({ ok: false, seq: 1, reason: 'broken link' });
    expect(checkChain(buildChain(3, 2), START)).toMatchObject({ ok: false, seq: 1, reason: 'gap' });
  });

  it('reports events that break the contract as invalid', () => {
    const cases: [string, (row: Row) => void][] = [
      ['extra member', (row) => (row.event['note'] = 'x')],
      ['bad ts', (row) => (row.event['ts'] = '2026-11-29')],
      ['payload Date', (row) => (row.event['payload'] = { at: new Date(0) })],
      ['payload NaN', (row) => (row.event['payload'] = { score: NaN })],
      ['not an object', (row) => (row.event = null as unknown as Record<string, unknown>)],
    ];
    for (const [name, edit] of cases) {
      const rows = buildChain(5);
      edit(rows[2]!);
      const result = checkChain(rows, START);
      expect({ name, result }).toMatchObject({ name, result: { ok: false, seq: 3 } });
      expect(result.ok ? '' : result.reason).toBe('invalid event');
    }
  });

  it('names the member in the detail', () => {
    const rows = buildChain(3);
    rows[1]!.event['payload'] = { nested: { at: new Date(0) } };
    const result = checkChain(rows, START);
    expect(result.ok ? '' : result.detail).toContain('$.payload.nested.at');
  });

  it('refuses seq values that are not positive integers', () => {
    const rows: Row[] = buildChain(3);
    rows[0]!.seq = '01';
    expect(checkChain(rows, START)).toMatchObject({ ok: false, seq: 1, reason: 'gap' });
  });
});
