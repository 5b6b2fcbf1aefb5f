/**
 * The hash-chain half of ledger verification (format in docs/ledger.md): for each stored row, in seq order,
 * recompute the canonical form from the stored event object, its hash, the link to the
 * previous hash and the gapless seq, and name the first row that fails and why.
 *
 * No signature work happens here: signatures are checked separately (they are the slow part
 * and can run in parallel), while this loop is synchronous and cheap per row, so an export of
 * millions of events can be checked in batches — pass each batch's result on as the next
 * batch's start.
 */
import { CanonicalizationError } from './canonical-json.js';
import { InvalidLedgerEventError, canonicalEvent, type LedgerEvent } from './ledger-event.js';
import { eventHash } from './event-hash.js';

/** One stored ledger row; `seq` may come from PostgreSQL bigint as a string. */
export interface ChainRow {
  readonly seq: number | string | bigint;
  /** The event object as stored (e.g. parsed from the NDJSON export or the jsonb column). */
  readonly event: unknown;
  /** The stored canonical text, when the store keeps it; it must equal the recomputed one. */
  readonly canonical?: string | undefined;
  readonly hash: string;
  /** Not checked here; signatures are verified separately. */
  readonly jws?: string | undefined;
}

export interface ChainStart {
  /** The seq the first row must have: 1 for a whole ledger. */
  readonly expectedSeq: number;
  /** The hash the first row's `prev` must equal: GENESIS_PREV for a whole ledger. */
  readonly prevHash: string;
}

export type ChainFailureReason = 'hash mismatch' | 'broken link' | 'gap' | 'invalid event';

export type ChainResult =
  | { readonly ok: true; readonly count: number; readonly lastHash: string }
  | {
      readonly ok: false;
      readonly seq: number;
      readonly reason: ChainFailureReason;
      readonly detail: string;
    };

/**
 * Checks rows in order. Per row, in this order: the seq is the next one (`gap` names the
 * missing seq), the event has the ledger event's exact shape and its seq agrees with the row
 * (`invalid event`), `prev` is the previous row's hash (`broken link`), and the hash of the
 * recomputed canonical form is the stored hash (`hash mismatch`). The link comes before the
 * hash so that an edited `prev` is reported as what it is.
 */
export function checkChain(rows: Iterable<ChainRow>, start: ChainStart): ChainResult {
  let expected = start.expectedSeq;
  let prevHash = start.prevHash;
  let count = 0;
  for (const row of rows) {
    const seq = toSeq(row.seq);
    if (seq !== expected) {
      const found = seq === undefined ? String(row.seq) : String(seq);
      return fail(expected, 'gap', `expected seq ${expected}, found ${found}`);
    }
    const failure = checkRow(row, seq, prevHash);
    if (typeof failure !== 'string') return failure;
    prevHash = failure;
    expected++;
    count++;
  }
  return { ok: true, count, lastHash: prevHash };
}

/** The row's hash if it holds, else the failure. */
function checkRow(row: ChainRow, seq: number, prevHash: string): string | ChainResult {
  let canonical: string;
  try {
    // canonicalEvent validates the event's shape before serializing.
    canonical = canonicalEvent(row.event as LedgerEvent);
  } catch (error) {
    if (error instanceof InvalidLedgerEventError || error instanceof CanonicalizationError) {
      return fail(seq, 'invalid event', error.message);
    }
    throw error;
  }
  const { seq: eventSeq, prev } = row.event as LedgerEvent;
  // The link first: an event moved to another position (swapped rows) does not link to the
  // event before it, and "broken link" names that better than its own seq would.
  if (prev !== prevHash) {
    return fail(seq, 'broken link', `prev is ${prev}, the previous hash is ${prevHash}`);
  }
  if (eventSeq !== seq) {
    return fail(seq, 'invalid event', `event seq ${eventSeq} is stored as seq ${seq}`);
  }
  if (row.canonical !== undefined && row.canonical !== canonical) {
    return fail(seq, 'hash mismatch', 'the stored canonical form is not the JCS of the event');
  }
  const hash = eventHash(canonical);
  if (hash !== row.hash) {
    return fail(seq, 'hash mismatch', `stored hash ${row.hash}, recomputed ${hash}`);
  }
  return hash;
}

const DECIMAL = /^[1-9][0-9]*$/;

function toSeq(value: number | string | bigint): number | undefined {
  if (typeof value === 'string' && !DECIMAL.test(value)) return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) && n >= 1 ? n : undefined;
}

function fail(seq: number, reason: ChainFailureReason, detail: string): ChainResult {
  return { ok: false, seq, reason, detail };
}
