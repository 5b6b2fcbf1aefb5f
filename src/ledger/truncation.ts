/**
 * Truncation: events deleted from the end of the chain. The chain alone cannot show it (what
 * is left still links, in order, from seq 1), but the rest of the ledger remembers how far the
 * chain reached: every sealing pass commits the events with their Merkle nodes, a checkpoint
 * with its own event, a rotation with the new key's row. Each of those beyond the last event
 * is a trace of events that are gone.
 */

import { ConflictError } from '../common/errors.js';

/** How far each ledger table says the chain reaches, read in one snapshot. */
export interface LedgerExtent {
  /** The last event's seq; 0 when there is none. */
  readonly headSeq: number;
  /** The largest tree size checkpointed, and the seq of the event recording it; 0 when none. */
  readonly checkpointTreeSize: number;
  readonly checkpointEventSeq: number;
  /** One past the rightmost leaf that any stored Merkle node covers; 0 when none. */
  readonly merkleLeaves: number;
  /** The first seq signed by the newest key (a rotation at seq s makes it s + 1); 0 when none. */
  readonly keyFirstSeq: number;
}

export interface Truncation {
  /** The last event left. */
  readonly headSeq: number;
  /** How many events at least are missing after it. */
  readonly missing: number;
  /** How many missing, and what shows it. */
  readonly detail: string;
}

/** The truncation the extent reveals, or undefined when every table agrees with the head. */
export function truncationOf(extent: LedgerExtent): Truncation | undefined {
  const head = extent.headSeq;
  const traces: { reach: number; what: string }[] = [];
  if (extent.checkpointEventSeq > head) {
    traces.push({
      reach: extent.checkpointEventSeq,
      what: `the checkpoint of tree size ${extent.checkpointTreeSize} is recorded by event ${extent.checkpointEventSeq}`,
    });
  }
  if (extent.merkleLeaves > head) {
    traces.push({
      reach: extent.merkleLeaves,
      what: `the stored Merkle tree covers ${extent.merkleLeaves} leaves`,
    });
  }
  // A new ledger's first key is stored before its first event, so first_seq 1 needs no event.
  if (extent.keyFirstSeq - 1 > head) {
    traces.push({
      reach: extent.keyFirstSeq - 1,
      what: `a signing key takes over at seq ${extent.keyFirstSeq}, after a rotation at seq ${extent.keyFirstSeq - 1}`,
    });
  }
  if (traces.length === 0) return undefined;
  const missing = Math.max(...traces.map((t) => t.reach)) - head;
  const count = missing === 1 ? '1 event is' : `${missing} events are`;
  return {
    headSeq: head,
    missing,
    detail: `${count} missing after seq ${head}: ${traces.map((t) => t.what).join('; ')}`,
  };
}

/**
 * The statement that reads a `LedgerExtent`: one statement, hence one snapshot, in which events
 * and their Merkle nodes never disagree unless rows were deleted (a pass commits them together).
 *
 * `leaves` reads the Merkle tree's rightmost leaf only: four index probes in all, cheap enough
 * for every append. `every level` reads the rightmost node of each of the 63 levels, so that a
 * tree whose leaves were deleted with the events still shows through its higher nodes; that
 * costs a few tenths of a millisecond, for verification.
 */
export function extentSql(merkle: 'leaves' | 'every level'): string {
  const merkleLeaves =
    merkle === 'leaves'
      ? 'SELECT coalesce(max(idx) + 1, 0) FROM ledger_merkle_nodes WHERE level = 0'
      : `SELECT coalesce(max((m.idx + 1) << l.level), 0)
         FROM generate_series(0, 62) AS l(level)
         CROSS JOIN LATERAL (SELECT n.idx FROM ledger_merkle_nodes n WHERE n.level = l.level
                             ORDER BY n.idx DESC LIMIT 1) AS m`;
  return `SELECT
    (SELECT coalesce(max(seq), 0) FROM ledger_events) AS head_seq,
    (SELECT coalesce(max(tree_size), 0) FROM ledger_checkpoints) AS checkpoint_tree_size,
    (SELECT coalesce(max(event_seq), 0) FROM ledger_checkpoints) AS checkpoint_event_seq,
    (${merkleLeaves}) AS merkle_leaves,
    (SELECT coalesce(max(first_seq), 0) FROM ledger_keys) AS key_first_seq`;
}

/** A row of `extentSql` as the driver returns it (bigint as text). */
export interface RawExtent {
  readonly head_seq: string | number;
  readonly checkpoint_tree_size: string | number;
  readonly checkpoint_event_seq: string | number;
  readonly merkle_leaves: string | number;
  readonly key_first_seq: string | number;
}

export function extentOf(row: RawExtent): LedgerExtent {
  return {
    headSeq: Number(row.head_seq),
    checkpointTreeSize: Number(row.checkpoint_tree_size),
    checkpointEventSeq: Number(row.checkpoint_event_seq),
    merkleLeaves: Number(row.merkle_leaves),
    keyFirstSeq: Number(row.key_first_seq),
  };
}

/**
 * Nothing can be appended to a truncated ledger: the next event would not follow the one the
 * Merkle nodes, checkpoints and keys were made after (and its leaf is already stored). Only a
 * restore brings the lost events back; signed events cannot be made again.
 */
export class LedgerTruncatedError extends ConflictError {
  constructor(readonly truncation: Truncation) {
    super(`the ledger is truncated: ${truncation.detail}; restore it from backup`, {
      headSeq: truncation.headSeq,
      missing: truncation.missing,
    });
  }
}

/** Throws LedgerTruncatedError when the extent reveals a truncation. */
export function assertNotTruncated(extent: LedgerExtent): void {
  const truncation = truncationOf(extent);
  if (truncation !== undefined) throw new LedgerTruncatedError(truncation);
}
