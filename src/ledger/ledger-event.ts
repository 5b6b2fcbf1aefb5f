/**
 * The ledger event (docs/ledger.md): its exact shape and its canonical form (its hash is in
 * event-hash.ts, apart, so that this module needs no node: module and runs in a browser).
 *
 * The format is a fixed contract with the offline verifier and outside auditors, so the
 * shape check is strict (exactly these members, each in one spelling) — two spellings of the
 * same fact would be two different hashes.
 */
import { canonicalize, isInCanonicalOrder } from './canonical-json.js';

export interface LedgerActor {
  sub: string;
  roles?: string[];
}

export interface LedgerEvent {
  v: 1;
  seq: number;
  id: string;
  ts: string;
  type: string;
  actor: LedgerActor;
  subject: string;
  payload: Record<string, unknown>;
  traceId: string | null;
  prev: string;
}

/** `prev` of seq 1: 64 zeros, as there is no event before it. */
export const GENESIS_PREV = '0'.repeat(64);

/** A ledger event that breaks the contract; `member` names the offending member. */
export class InvalidLedgerEventError extends TypeError {
  override readonly name = 'InvalidLedgerEventError';
  constructor(
    readonly member: string,
    readonly problem: string,
  ) {
    super(`invalid ledger event: ${member} ${problem}`);
  }
}

/** The members in RFC 8785 order (UTF-16 code units), as events read back list them. */
const MEMBERS = ['actor', 'id', 'payload', 'prev', 'seq', 'subject', 'traceId', 'ts', 'type', 'v'];
const MEMBER_SET = new Set(MEMBERS);
const ACTOR_MEMBERS = new Set(['roles', 'sub']);

// RFC 3339 `date-time` restricted to what formatTimestamp writes: UTC, milliseconds, `Z`.
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
// RFC 9562 UUID text in its canonical lowercase form (any version).
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
// W3C Trace Context trace-id: 16 bytes as 32 lowercase hex digits.
const TRACE_ID = /^[0-9a-f]{32}$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;
// Dotted lowercase names such as model.version.registered or rollout.rolled_back.
const EVENT_TYPE = /^[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)+$/;

/** Checks that `e` is exactly a ledger event and returns it typed; throws otherwise. */
export function validateEventShape(e: unknown): LedgerEvent {
  checkEvent(e);
  return e as LedgerEvent;
}

/**
 * The RFC 8785 canonical form of an event, after the shape check so that a malformed event
 * is never hashed or signed. Events read back from the ledger list every member in JCS order
 * already; then, once actor, subject and payload are checked, the native JSON.stringify output
 * is the canonical text (see canonical-json.ts) and nothing is walked twice. Other events
 * (built in code, members in any order) go through the sorting serializer.
 */
export function canonicalEvent(e: LedgerEvent): string {
  if (
    checkEvent(e) &&
    isInCanonicalOrder(e.actor, '$.actor') &&
    isInCanonicalOrder(e.subject, '$.subject') &&
    isInCanonicalOrder(e.payload, '$.payload')
  ) {
    return JSON.stringify(e);
  }
  return canonicalize(e);
}

/** An event whose actor and payload are already RFC 8785 text (as the queue stores them). */
export interface EventParts {
  readonly seq: number;
  readonly id: string;
  readonly ts: string;
  readonly type: string;
  /** RFC 8785 JSON */
  readonly actor: string;
  readonly subject: string;
  /** RFC 8785 JSON */
  readonly payload: string;
  readonly traceId: string | null;
  readonly prev: string;
}

/**
 * The canonical form of an event put together from its parts, without building and walking the
 * object again: the sealing pass's hot path. The same text as `canonicalEvent` (a test holds
 * them together) provided the parts are what the queue guarantees: actor and payload in RFC 8785
 * form, `id`, `ts`, `type`, `traceId` and `prev` in their one fixed spelling (no character
 * that JSON escapes) and a subject that `canonicalize` accepted (no lone surrogate), for which
 * JSON.stringify writes RFC 8785's string form. Members in RFC 8785 order.
 */
export function canonicalEventOf(e: EventParts): string {
  const traceId = e.traceId === null ? 'null' : `"${e.traceId}"`;
  return `{"actor":${e.actor},"id":"${e.id}","payload":${e.payload},"prev":"${e.prev}","seq":${String(e.seq)},"subject":${JSON.stringify(e.subject)},"traceId":${traceId},"ts":"${e.ts}","type":"${e.type}","v":1}`;
}

/**
 * The latest eventHash output (event-hash.ts), 64 lowercase hex by construction. When a chain
 * is checked, each event's prev is the hash just computed for the event before it; comparing
 * with this string spares a 64-character pattern match per event.
 */
let lastEventHash = GENESIS_PREV;

/** Notes the hash eventHash just computed; anything else passed here would skip a check. */
export function rememberEventHash(hash: string): void {
  lastEventHash = hash;
}

/** `ts` for a Date: RFC 3339 in UTC with milliseconds and `Z`, e.g. 2026-11-29T01:02:03.456Z. */
export function formatTimestamp(date: Date): string {
  const ms = date.getTime();
  if (!Number.isFinite(ms)) throw new RangeError('invalid Date');
  const ts = date.toISOString();
  // Years outside 0000–9999 come out as ±YYYYYY, which RFC 3339 does not allow.
  if (!TIMESTAMP.test(ts)) throw new RangeError(`${ts} is outside RFC 3339 years`);
  return ts;
}

/** Throws InvalidLedgerEventError; returns whether the members are listed in JCS order. */
function checkEvent(e: unknown): boolean {
  const event = plainObject(e, 'event');
  const ordered = checkMembers(Object.keys(event));
  if (event['v'] !== 1) throw new InvalidLedgerEventError('v', 'must be 1');
  const seq = event['seq'];
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) {
    throw new InvalidLedgerEventError('seq', 'must be a positive safe integer');
  }
  matches(event, 'id', UUID, 'must be a lowercase UUID');
  checkTimestamp(event['ts']);
  matches(event, 'type', EVENT_TYPE, 'must be a dotted lowercase event type');
  checkActor(event['actor']);
  if (typeof event['subject'] !== 'string' || event['subject'] === '') {
    throw new InvalidLedgerEventError('subject', 'must be a non-empty string');
  }
  plainObject(event['payload'], 'payload');
  if (event['traceId'] !== null) {
    matches(event, 'traceId', TRACE_ID, 'must be 32 lowercase hex digits or null');
  }
  if (event['prev'] !== lastEventHash) {
    matches(event, 'prev', SHA256_HEX, 'must be 64 lowercase hex digits');
  }
  return ordered;
}

/** Exactly the ledger event's members; true when they are listed in JCS order. */
function checkMembers(keys: string[]): boolean {
  if (isMemberList(keys)) return true;
  for (const key of keys) {
    if (!MEMBER_SET.has(key)) throw new InvalidLedgerEventError(key, 'is not a ledger member');
  }
  const missing = MEMBERS.find((key) => !keys.includes(key));
  if (missing !== undefined) throw new InvalidLedgerEventError(missing, 'is missing');
  return false;
}

function isMemberList(keys: string[]): boolean {
  if (keys.length !== MEMBERS.length) return false;
  for (let i = 0; i < keys.length; i++) if (keys[i] !== MEMBERS[i]) return false;
  return true;
}

function plainObject(value: unknown, member: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidLedgerEventError(member, 'must be a JSON object');
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    throw new InvalidLedgerEventError(member, 'must be a plain object');
  }
  return value as Record<string, unknown>;
}

function matches(
  event: Record<string, unknown>,
  member: string,
  pattern: RegExp,
  problem: string,
): void {
  const value = event[member];
  if (typeof value !== 'string' || !pattern.test(value)) {
    throw new InvalidLedgerEventError(member, problem);
  }
}

/** Also a real calendar instant (RFC 3339 §5.7): no 2026-02-30, no 24:00, no leap second. */
function checkTimestamp(ts: unknown): void {
  if (typeof ts !== 'string' || !TIMESTAMP.test(ts) || !isRealInstant(ts)) {
    throw new InvalidLedgerEventError('ts', 'must be UTC RFC 3339 with milliseconds and Z');
  }
}

/** Field checks by digit position (the pattern already matched): cheaper than Date parsing. */
function isRealInstant(ts: string): boolean {
  const year = digits(ts, 0, 4);
  const month = digits(ts, 5, 2);
  const day = digits(ts, 8, 2);
  return (
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysInMonth(year, month) &&
    digits(ts, 11, 2) <= 23 &&
    digits(ts, 14, 2) <= 59 &&
    digits(ts, 17, 2) <= 59
  );
}

function digits(text: string, at: number, count: number): number {
  let n = 0;
  for (let i = at; i < at + count; i++) n = n * 10 + text.charCodeAt(i) - 48;
  return n;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** `{sub, roles}` for people, `{sub: "system:<part>"}` for the service itself. */
function checkActor(value: unknown): void {
  const actor = plainObject(value, 'actor');
  for (const key of Object.keys(actor)) {
    if (!ACTOR_MEMBERS.has(key)) {
      throw new InvalidLedgerEventError(`actor.${key}`, 'is not an actor member');
    }
  }
  if (typeof actor['sub'] !== 'string' || actor['sub'] === '') {
    throw new InvalidLedgerEventError('actor.sub', 'must be a non-empty string');
  }
  if (!('roles' in actor)) return;
  const roles = actor['roles'];
  if (!Array.isArray(roles) || !roles.every((r) => typeof r === 'string' && r !== '')) {
    throw new InvalidLedgerEventError('actor.roles', 'must be an array of non-empty strings');
  }
}
