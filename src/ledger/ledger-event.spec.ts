import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { canonicalize } from './canonical-json.js';
import {
  GENESIS_PREV,
  InvalidLedgerEventError,
  canonicalEvent,
  canonicalEventOf,
  formatTimestamp,
  validateEventShape,
  type LedgerEvent,
} from './ledger-event.js';
import { eventHash } from './event-hash.js';
import { leafHash } from './merkle.js';

function sampleEvent(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    v: 1,
    seq: 1,
    id: '0b6b5f9e-3c1a-4e6f-9a7d-2f4c8e1b5a90',
    ts: '2026-11-29T01:02:03.456Z',
    type: 'model.version.registered',
    actor: { sub: 'alice', roles: ['data-scientist'] },
    subject: 'model:credit-risk@3',
    payload: { version: 3, sha256: 'ab'.repeat(32), card: { owner: 'alice', tier: 'high' } },
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    prev: GENESIS_PREV,
    ...overrides,
  };
}

function memberOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof InvalidLedgerEventError) return error.member;
    throw error;
  }
  return undefined;
}

describe('validateEventShape', () => {
  it('accepts a well-formed event, for people and for system actors', () => {
    expect(validateEventShape(sampleEvent())).toEqual(sampleEvent());
    expect(() =>
      validateEventShape(sampleEvent({ actor: { sub: 'system:rollout' }, traceId: null })),
    ).not.toThrow();
    expect(() => validateEventShape(JSON.parse(JSON.stringify(sampleEvent())))).not.toThrow();
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['v 2', { v: 2 }, 'v'],
    ['v "1"', { v: '1' }, 'v'],
    ['seq 0', { seq: 0 }, 'seq'],
    ['seq 1.5', { seq: 1.5 }, 'seq'],
    ['seq "1"', { seq: '1' }, 'seq'],
    ['seq beyond 2^53', { seq: 2 ** 53 }, 'seq'],
    ['id not a UUID', { id: 'abc' }, 'id'],
    ['id in upper case', { id: '0B6B5F9E-3C1A-4E6F-9A7D-2F4C8E1B5A90' }, 'id'],
    ['ts without milliseconds', { ts: '2026-11-29T01:02:03Z' }, 'ts'],
    ['ts with an offset', { ts: '2026-11-29T01:02:03.456+00:00' }, 'ts'],
    ['ts with microseconds', { ts: '2026-11-29T01:02:03.456789Z' }, 'ts'],
    ['ts on 30 February', { ts: '2026-02-30T01:02:03.456Z' }, 'ts'],
    ['ts at 24:00', { ts: '2026-11-29T24:00:00.000Z' }, 'ts'],
    ['ts lower-case z', { ts: '2026-11-29T01:02:03.456z' }, 'ts'],
    ['type empty', { type: '' }, 'type'],
    ['type with capitals', { type: 'Model.Registered' }, 'type'],
    ['actor missing sub', { actor: { roles: [] } }, 'actor.sub'],
    ['actor with extra member', { actor: { sub: 'a', name: 'Alice' } }, 'actor.name'],
    ['actor roles not strings', { actor: { sub: 'a', roles: [1] } }, 'actor.roles'],
    ['actor not an object', { actor: 'alice' }, 'actor'],
    ['subject empty', { subject: '' }, 'subject'],
    ['payload an array', { payload: [] }, 'payload'],
    ['payload null', { payload: null }, 'payload'],
    ['payload a Date', { payload: new Date() }, 'payload'],
    ['traceId short', { traceId: 'abc' }, 'traceId'],
    ['traceId upper case', { traceId: '4BF92F3577B34DA6A3CE929D0E0E4736' }, 'traceId'],
    ['traceId undefined', { traceId: undefined }, 'traceId'],
    ['prev short', { prev: '00' }, 'prev'],
    ['prev upper case', { prev: 'AB'.repeat(32) }, 'prev'],
    ['an extra member', { hash: 'x' }, 'hash'],
  ])('names the member: %s', (_name, overrides, member) => {
    expect(memberOf(() => validateEventShape(sampleEvent(overrides)))).toBe(member);
  });

  it('names a missing member', () => {
    const event = sampleEvent();
    delete event['traceId'];
    expect(memberOf(() => validateEventShape(event))).toBe('traceId');
  });

  it('refuses non-objects', () => {
    expect(memberOf(() => validateEventShape(null))).toBe('event');
    expect(memberOf(() => validateEventShape([]))).toBe('event');
    expect(memberOf(() => validateEventShape('{}'))).toBe('event');
  });
});

describe('canonicalEvent and eventHash', () => {
  it('equals the generic JCS of the event', () => {
    for (const overrides of [
      {},
      { traceId: null, actor: { sub: 'system:ledger' } },
      { subject: 'promotion:\u20ac\ud83d\ude00"\n', payload: {} },
      { payload: { z: [1, 2.5, -0, 1e21], a: { '\u00f6': null, '\r': true } }, seq: 2 ** 40 },
    ]) {
      const event = validateEventShape(sampleEvent(overrides));
      expect(canonicalEvent(event)).toBe(canonicalize(event));
    }
  });

  it('is what canonicalEventOf puts together from the queued parts', () => {
    for (const overrides of [
      {},
      { traceId: null, actor: { sub: 'system:ledger' } },
      { subject: 'promotion:\u20ac\ud83d\ude00"\n\\\u0001\u2028', payload: {} },
      { payload: { z: [1, 2.5, -0, 1e21], a: { '\u00f6': null, '\r': true } }, seq: 2 ** 40 },
      { actor: { sub: 'carol@bank.example', roles: ['compliance-officer', 'auditor'] } },
    ]) {
      const event = validateEventShape(sampleEvent(overrides));
      expect(
        canonicalEventOf({
          ...event,
          actor: canonicalize(event.actor),
          payload: canonicalize(event.payload),
        }),
      ).toBe(canonicalize(event));
    }
  });

  it('writes members in JCS order', () => {
    const canonical = canonicalEvent(validateEventShape(sampleEvent()));
    expect(canonical).toBe(
      '{"actor":{"roles":["data-scientist"],"sub":"alice"},' +
        '"id":"0b6b5f9e-3c1a-4e6f-9a7d-2f4c8e1b5a90",' +
        '"payload":{"card":{"owner":"alice","tier":"high"},"sha256":"' +
        'ab'.repeat(32) +
        '","version":3},' +
        `"prev":"${GENESIS_PREV}","seq":1,"subject":"model:credit-risk@3",` +
        '"traceId":"4bf92f3577b34da6a3ce929d0e0e4736","ts":"2026-11-29T01:02:03.456Z",' +
        '"type":"model.version.registered","v":1}',
    );
  });

  it('gives the same text whatever order the members are listed in', () => {
    const built = sampleEvent(); // members in interface order: v, seq, id, …
    const canonical = canonicalEvent(validateEventShape(built));
    const readBack = JSON.parse(canonical) as LedgerEvent; // members in JCS order
    expect(Object.keys(readBack)[0]).toBe('actor');
    expect(canonicalEvent(readBack)).toBe(canonical);
    const shuffled = Object.fromEntries(Object.entries(built).reverse()) as unknown as LedgerEvent;
    expect(canonicalEvent(shuffled)).toBe(canonical);
  });

  it('validates before serializing, on both paths', () => {
    const readBack = JSON.parse(canonicalEvent(validateEventShape(sampleEvent()))) as Record<
      string,
      unknown
    >;
    readBack['prev'] = 'AB'.repeat(32);
    expect(memberOf(() => canonicalEvent(readBack as unknown as LedgerEvent))).toBe('prev');
    expect(memberOf(() => canonicalEvent(sampleEvent({ seq: 0 }) as unknown as LedgerEvent))).toBe(
      'seq',
    );
    const lone = JSON.parse(canonicalEvent(validateEventShape(sampleEvent()))) as LedgerEvent;
    lone.subject = 'model:\ud800';
    expect(() => canonicalEvent(lone)).toThrow('$.subject');
    lone.subject = 'ok';
    lone.actor = { sub: 'x\udfff' };
    expect(() => canonicalEvent(lone)).toThrow('$.actor.sub');
  });

  it('accepts as prev the hash just computed, and still checks any other prev', () => {
    const first = validateEventShape(sampleEvent());
    const hash = eventHash(canonicalEvent(first));
    expect(() => validateEventShape(sampleEvent({ seq: 2, prev: hash }))).not.toThrow();
    expect(memberOf(() => validateEventShape(sampleEvent({ prev: hash.toUpperCase() })))).toBe(
      'prev',
    );
    expect(memberOf(() => validateEventShape(sampleEvent({ prev: hash.slice(1) })))).toBe('prev');
  });

  it('refuses payloads that are not JSON', () => {
    const event = validateEventShape(sampleEvent({ payload: { at: new Date(0) } }));
    expect(() => canonicalEvent(event)).toThrow('$.payload.at');
  });

  it('hashes 0x00 ‖ UTF-8(canonical), the RFC 9162 leaf hash', () => {
    const canonical = canonicalEvent(validateEventShape(sampleEvent({ subject: 'm:é€😀' })));
    const expected = createHash('sha256')
      .update(Buffer.concat([Buffer.from([0]), Buffer.from(canonical, 'utf8')]))
      .digest('hex');
    expect(eventHash(canonical)).toBe(expected);
    expect(eventHash(canonical)).toBe(leafHash(Buffer.from(canonical, 'utf8')).toString('hex'));
    expect(eventHash(canonical)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('has a genesis prev of 64 zeros', () => {
    expect(GENESIS_PREV).toBe('0000000000000000000000000000000000000000000000000000000000000000');
  });
});

describe('formatTimestamp', () => {
  it('writes UTC with milliseconds and Z', () => {
    expect(formatTimestamp(new Date(Date.UTC(2026, 10, 29, 1, 2, 3, 456)))).toBe(
      '2026-11-29T01:02:03.456Z',
    );
    expect(formatTimestamp(new Date(0))).toBe('1970-01-01T00:00:00.000Z');
  });

  it('produces timestamps the shape check accepts', () => {
    const ts = formatTimestamp(new Date());
    expect(() => validateEventShape(sampleEvent({ ts }))).not.toThrow();
  });

  it('refuses invalid dates and years RFC 3339 cannot write', () => {
    expect(() => formatTimestamp(new Date(NaN))).toThrow(RangeError);
    expect(() => formatTimestamp(new Date(Date.UTC(10000, 0, 1)))).toThrow(RangeError);
  });
});

describe('LedgerEvent', () => {
  it('has exactly the members of a ledger event (checked at compile time too)', () => {
    const typed: LedgerEvent = {
      v: 1,
      seq: 1,
      id: '',
      ts: '',
      type: '',
      actor: { sub: '' },
      subject: '',
      payload: {},
      traceId: null,
      prev: '',
    };
    expect(Object.keys(typed).sort()).toEqual(Object.keys(sampleEvent()).sort());
  });
});
