import { randomUUID } from 'node:crypto';
import { canonicalize } from './canonical-json.js';
import type { EventInput } from './event-catalogue.js';
import { formatTimestamp } from './ledger-event.js';
import type { PendingRow, Queryable } from './ledger.repository.js';
import { assertNotTruncated, extentOf, extentSql, type RawExtent } from './truncation.js';

/**
 * Events on their way into the chain: checked and put in their canonical form, then queued in
 * the transaction of the change they record (`ledger_pending`); the sequencer seals the queue.
 * Plain functions over any connection, so that a writer outside the application's data source
 * (the prediction log's thread) queues its events exactly as `LedgerService` does.
 */

const EVENT_TYPE = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;

/** Validated and canonicalized now, so a bad event fails its own transaction, not a later pass. */
export function queuedEventOf(input: EventInput, traceId: string | null): Omit<PendingRow, 'id'> {
  if (!EVENT_TYPE.test(input.type))
    throw new Error(`ledger event type ${JSON.stringify(input.type)} is malformed`);
  if (input.subject.length === 0 || input.subject.length > 512)
    throw new Error('ledger event subject is empty or too long');
  if (input.actor.sub.length === 0) throw new Error('ledger event actor has no subject');
  // Refuses lone surrogates; the sealing pass then writes the subject into the canonical text
  // as JSON.stringify does (canonicalEventOf).
  canonicalize(input.subject);
  const actor =
    input.actor.roles === undefined
      ? { sub: input.actor.sub }
      : { sub: input.actor.sub, roles: [...input.actor.roles] };
  return {
    eventId: randomUUID(),
    ts: formatTimestamp(new Date()),
    type: input.type,
    subject: input.subject,
    actor: canonicalize(actor),
    payload: canonicalize(input.payload),
    traceId,
  };
}

const INSERT_QUEUED = `INSERT INTO ledger_pending (event_id, ts, type, subject, actor, payload, trace_id)
  SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
  RETURNING id`;

function queuedColumns(rows: readonly Omit<PendingRow, 'id'>[]): unknown[] {
  return [
    rows.map((r) => r.eventId),
    rows.map((r) => r.ts),
    rows.map((r) => r.type),
    rows.map((r) => r.subject),
    rows.map((r) => r.actor),
    rows.map((r) => r.payload),
    rows.map((r) => r.traceId),
  ];
}

/** Queues the events in the caller's transaction; returns their queue ids, in order. */
export async function queueEvents(
  tx: Queryable,
  rows: readonly Omit<PendingRow, 'id'>[],
): Promise<number[]> {
  const inserted = await tx.query<{ id: string }[]>(INSERT_QUEUED, queuedColumns(rows));
  // INSERT … SELECT FROM unnest inserts in the order unnest yields, which is array order.
  return inserted.map((r) => Number(r.id)).sort((a, b) => a - b);
}

const INSERT_QUEUED_CHECKED = `WITH queued AS (${INSERT_QUEUED})
  SELECT ARRAY(SELECT id FROM queued ORDER BY id)::text[] AS ids, extent.*
  FROM (${extentSql('leaves')}) AS extent`;

/**
 * As `queueEvents`, and refuses a truncated ledger with LedgerTruncatedError, which rolls the
 * caller's transaction back: its events could never be sealed, so its change must not commit
 * without them. The statement that queues reads the ledger's extent too, so the check costs no
 * round trip.
 */
export async function queueEventsOnIntactLedger(
  tx: Queryable,
  rows: readonly Omit<PendingRow, 'id'>[],
): Promise<number[]> {
  const [result] = await tx.query<(RawExtent & { ids: string[] })[]>(
    INSERT_QUEUED_CHECKED,
    queuedColumns(rows),
  );
  if (!result) throw new Error('queueing ledger events returned nothing');
  assertNotTruncated(extentOf(result));
  return result.ids.map(Number);
}
