import { Injectable, Logger } from '@nestjs/common';
import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { DataSource, type EntityManager } from 'typeorm';
import { checkOut, type CheckedOutClient } from '../database/checked-out-client.js';
import type { PublicJwk } from './jws-verify.js';
import { extentOf, extentSql, type LedgerExtent, type RawExtent } from './truncation.js';

/** The advisory lock that serializes appends across every process, so no two forks of the chain. */
export const LEDGER_LOCK_KEY = 7_350_002;

const APPEND_EXTENT = extentSql('leaves');
const VERIFY_EXTENT = extentSql('every level');

export interface AppendHead {
  readonly headSeq: number;
  readonly headHash: string;
  readonly kid: string | null;
  readonly frontier: Buffer[];
}

export interface EventRow {
  readonly seq: number;
  readonly id: string;
  readonly ts: string;
  readonly type: string;
  readonly subject: string;
  readonly canonical: string;
  readonly hash: string;
  readonly jws: string;
}

export interface PendingRow {
  readonly id: number;
  readonly eventId: string;
  readonly ts: string;
  readonly type: string;
  readonly subject: string;
  /** RFC 8785 JSON */
  readonly actor: string;
  /** RFC 8785 JSON */
  readonly payload: string;
  readonly traceId: string | null;
}

export interface CheckpointRow {
  readonly treeSize: number;
  readonly rootHash: string;
  readonly ts: string;
  readonly eventSeq: number;
  readonly jws: string;
}

export interface KeyRow {
  readonly kid: string;
  readonly publicJwk: PublicJwk;
  readonly firstSeq: number;
}

export interface EventFilter {
  readonly afterSeq: number;
  readonly limit: number;
  readonly subject?: string | undefined;
  readonly type?: string | undefined;
  readonly actor?: string | undefined;
  /** Inclusive. */
  readonly from?: Date | undefined;
  /** Exclusive. */
  readonly to?: Date | undefined;
  readonly toSeq?: number | undefined;
}

/**
 * The actor's subject as ledger_events_actor_idx indexes it: the table keeps the actor only in
 * the canonical text, and `ledger_actor_sub` (migrations/1764580000000-LedgerActorSub.ts) reads
 * it from there JSON-escaped, as the canonical form writes it.
 */
const ACTOR_SUB = 'ledger_actor_sub(canonical)';

/** A string as RFC 8785 writes it between its quotes (the escaping of JSON.stringify). */
function jsonEscaped(text: string): string {
  return JSON.stringify(text).slice(1, -1);
}

interface RawPending {
  id: number;
  event_id: string;
  ts: string;
  type: string;
  subject: string;
  actor: string;
  payload: string;
  trace_id: string | null;
}

interface RawEventRow {
  seq: string;
  id: string;
  ts: Date;
  type: string;
  subject: string;
  canonical: string;
  hash: string;
  jws: string;
}

/** Anything that runs SQL and returns rows: TypeORM's EntityManager, or a sealing transaction. */
export interface Queryable {
  query<T = unknown>(sql: string, params?: unknown[]): Promise<T>;
}

export interface SealTx extends Queryable {
  readonly head: AppendHead & { pending: PendingRow[] };
  /** How far each ledger table reaches, read under the lock: a truncation shows here. */
  readonly extent: LedgerExtent;
  /** Inserts the sealed events, their Merkle nodes and the queue deletions, and commits. */
  finish(
    events: readonly EventRow[],
    nodes: readonly { level: number; idx: number; hash: Buffer }[],
    sealedPendingIds: readonly number[],
  ): Promise<void>;
}

interface RawHead {
  head_seq: string;
  head_hash: string;
  kid: string | null;
  frontier: Buffer[];
  pending: RawPending[];
}

function headOf(row: RawHead): AppendHead & { pending: PendingRow[] } {
  return {
    headSeq: Number(row.head_seq),
    headHash: row.head_hash,
    kid: row.kid,
    frontier: row.frontier,
    pending: row.pending.map((r) => ({
      id: r.id,
      eventId: r.event_id,
      ts: r.ts,
      type: r.type,
      subject: r.subject,
      actor: r.actor,
      payload: r.payload,
      traceId: r.trace_id,
    })),
  };
}

/**
 * The sealing insert as one literal statement (so that COMMIT can ride in the same round trip):
 * the rows travel as one JSON document, quoted by the driver's own escaping.
 */
function insertStatement(
  client: pg.PoolClient,
  events: readonly EventRow[],
  nodes: readonly { level: number; idx: number; hash: Buffer }[],
  sealedPendingIds: readonly number[],
): string {
  const document = client.escapeLiteral(
    JSON.stringify({
      events,
      nodes: nodes.map((n) => ({ level: n.level, idx: n.idx, hash: n.hash.toString('hex') })),
      pending: sealedPendingIds,
    }),
  );
  return `WITH p AS (SELECT ${document}::json AS j),
    d AS (DELETE FROM ledger_pending WHERE id IN (SELECT json_array_elements_text(j->'pending')::bigint FROM p)),
    e AS (
      INSERT INTO ledger_events (seq, id, ts, type, subject, canonical, hash, jws)
      SELECT x.seq, x.id, x.ts, x.type, x.subject, x.canonical, x.hash, x.jws FROM p,
        json_to_recordset(p.j->'events') AS x(seq bigint, id uuid, ts timestamptz, type text, subject text, canonical text, hash text, jws text)
    )
    INSERT INTO ledger_merkle_nodes (level, idx, hash)
    SELECT y.level, y.idx, decode(y.hash, 'hex') FROM p,
      json_to_recordset(p.j->'nodes') AS y(level smallint, idx bigint, hash text)`;
}

/** All SQL of the ledger. Writes take the caller's EntityManager, so they join its transaction. */
@Injectable()
export class LedgerRepository {
  private static readonly logger = new Logger('LedgerRepository');

  constructor(private readonly dataSource: DataSource) {}

  /**
   * A sequencer pass's transaction on a connection of its own, in as few round trips as
   * possible (each costs a system call on both sides): BEGIN together with taking the append
   * lock and reading the head, key, Merkle frontier, up to `batch` queued events and the
   * ledger's extent; then the work; then the inserts together with COMMIT (`finish`).
   */
  async sealTransaction<T>(batch: number, work: (tx: SealTx) => Promise<T>): Promise<T> {
    const connection = await this.checkOut();
    const client = connection.client;
    let open = true;
    // Read through a function: `finish` closes the transaction, which narrowing can't see.
    const isOpen = (): boolean => open;
    try {
      // The extent is read by a statement of its own after the lock is held, so it sees
      // every pass that committed before this one.
      const results = (await client.query(
        `BEGIN; SELECT * FROM ledger_prepare_append(${String(LEDGER_LOCK_KEY)}, ${String(Math.trunc(batch))}); ${APPEND_EXTENT}`,
      )) as unknown as [unknown, pg.QueryResult<RawHead>, pg.QueryResult<RawExtent>];
      const row = results[1].rows[0];
      const extent = results[2].rows[0];
      if (!row || !extent) throw new Error('ledger_prepare_append returned nothing');
      const tx: SealTx = {
        head: headOf(row),
        extent: extentOf(extent),
        query: async <R>(sql: string, params?: unknown[]) =>
          (await client.query(sql, params)).rows as R,
        finish: async (events, nodes, sealedPendingIds) => {
          await client.query(`${insertStatement(client, events, nodes, sealedPendingIds)}; COMMIT`);
          open = false;
        },
      };
      const result = await work(tx);
      if (isOpen()) {
        await client.query('COMMIT');
        open = false;
      }
      return result;
    } catch (error) {
      if (isOpen()) await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      connection.release();
    }
  }

  private pool(): pg.Pool {
    return (this.dataSource.driver as unknown as { master: pg.Pool }).master;
  }

  /** A connection of TypeORM's pool for a transaction driven by hand (checked-out-client.ts). */
  private checkOut(): Promise<CheckedOutClient> {
    return checkOut(this.pool(), (error) => {
      LedgerRepository.logger.warn(`ledger connection lost: ${error.message}`);
    });
  }

  /**
   * One sequencer pass in one round trip, against the head this process left (`ledger_seal`,
   * migrations/1764500000000-LedgerSeal.ts): inserts the sealed events and their Merkle nodes
   * and deletes their queue rows if, under the append lock, the head is still `expected`.
   * Returns false, having written nothing, when another process appended meanwhile.
   */
  async sealAgainst(
    expected: { seq: number; hash: string },
    events: readonly EventRow[],
    nodes: readonly { level: number; idx: number; hash: Buffer }[],
    sealedPendingIds: readonly number[],
  ): Promise<boolean> {
    const document = JSON.stringify({
      events,
      nodes: nodes.map((n) => ({ level: n.level, idx: n.idx, hash: n.hash.toString('hex') })),
      pending: sealedPendingIds,
    });
    const result = await this.pool().query<{ sealed: boolean }>({
      name: 'ledger_seal',
      text: 'SELECT sealed FROM ledger_seal($1, $2, $3, $4)',
      values: [LEDGER_LOCK_KEY, expected.seq, expected.hash, document],
    });
    return result.rows[0]?.sealed === true;
  }

  /** Queued events older than `olderThanMs`: their writer has not had them sealed (it crashed?). */
  async pendingCount(olderThanMs = 0): Promise<number> {
    const [row] = await this.dataSource.query<{ n: string }[]>(
      `SELECT count(*) AS n FROM ledger_pending WHERE created_at <= now() - $1 * interval '1 millisecond'`,
      [olderThanMs],
    );
    return Number(row?.n ?? 0);
  }

  async eventsByIds(ids: readonly string[]): Promise<EventRow[]> {
    const rows = await this.dataSource.query<RawEventRow[]>(
      `SELECT seq, id, ts, type, subject, canonical, hash, jws FROM ledger_events WHERE id = ANY($1::uuid[]) ORDER BY seq`,
      [ids],
    );
    return rows.map(toEventRow);
  }

  async insertKey(tx: Queryable, key: PublicJwk, firstSeq: number): Promise<void> {
    await tx.query('INSERT INTO ledger_keys (kid, public_jwk, first_seq) VALUES ($1, $2, $3)', [
      key.kid,
      JSON.stringify(key),
      firstSeq,
    ]);
  }

  async insertCheckpoint(tx: Queryable, row: CheckpointRow): Promise<void> {
    await tx.query(
      'INSERT INTO ledger_checkpoints (tree_size, root_hash, ts, event_seq, jws) VALUES ($1, $2, $3, $4, $5)',
      [row.treeSize, row.rootHash, row.ts, row.eventSeq, row.jws],
    );
  }

  async keys(manager: Queryable = this.dataSource.manager): Promise<KeyRow[]> {
    const rows = await manager.query<{ kid: string; public_jwk: PublicJwk; first_seq: string }[]>(
      'SELECT kid, public_jwk, first_seq FROM ledger_keys ORDER BY first_seq',
    );
    return rows.map((r) => ({
      kid: r.kid,
      publicJwk: r.public_jwk,
      firstSeq: Number(r.first_seq),
    }));
  }

  /** How far each ledger table reaches, the Merkle tree by every level, in one snapshot. */
  async extent(): Promise<LedgerExtent> {
    const [row] = await this.dataSource.query<RawExtent[]>(VERIFY_EXTENT);
    if (!row) throw new Error('the ledger extent query returned nothing');
    return extentOf(row);
  }

  async headSeq(manager: EntityManager = this.dataSource.manager): Promise<number> {
    const [row] = await manager.query<{ seq: string | null }[]>(
      'SELECT max(seq) AS seq FROM ledger_events',
    );
    return Number(row?.seq ?? 0);
  }

  async events(filter: EventFilter): Promise<EventRow[]> {
    const conditions = ['seq > $1'];
    const params: unknown[] = [filter.afterSeq];
    if (filter.subject !== undefined) conditions.push(`subject = $${params.push(filter.subject)}`);
    if (filter.type !== undefined) conditions.push(`type = $${params.push(filter.type)}`);
    if (filter.actor !== undefined)
      conditions.push(`${ACTOR_SUB} = $${params.push(jsonEscaped(filter.actor))}`);
    if (filter.from !== undefined) conditions.push(`ts >= $${params.push(filter.from)}`);
    if (filter.to !== undefined) conditions.push(`ts < $${params.push(filter.to)}`);
    if (filter.toSeq !== undefined) conditions.push(`seq <= $${params.push(filter.toSeq)}`);
    const rows = await this.dataSource.query<RawEventRow[]>(
      `SELECT seq, id, ts, type, subject, canonical, hash, jws FROM ledger_events
       WHERE ${conditions.join(' AND ')} ORDER BY seq LIMIT $${params.push(filter.limit)}`,
      params,
    );
    return rows.map(toEventRow);
  }

  /**
   * The verifier's read of events in (afterSeq, toSeq], in seq order: a COPY in text format on
   * a connection of its own, only the columns it checks (seq, type, subject, canonical, hash,
   * jws), yielded as chunks of whole lines (UTF-8) for the verification workers to parse. (`ts` and
   * `id` are not read: the signed canonical text carries them.)
   */
  async *copyForVerify(
    afterSeq: number,
    toSeq: number,
    chunkBytes = 1 << 20,
  ): AsyncGenerator<Uint8Array> {
    const connection = await this.checkOut();
    const client = connection.client;
    let finished = false;
    try {
      const stream = client.query(
        copyTo(
          `COPY (SELECT seq, type, subject, canonical, hash, jws FROM ledger_events
                 WHERE seq > ${String(Math.trunc(afterSeq))} AND seq <= ${String(Math.trunc(toSeq))} ORDER BY seq)
           TO STDOUT`,
        ),
      );
      // Raw bytes, cut after a newline (0x0A never occurs inside a UTF-8 sequence), each chunk
      // in a buffer of its own so that it can be transferred to a worker without a copy.
      let parts: Buffer[] = [];
      let size = 0;
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        parts.push(chunk);
        size += chunk.length;
        if (size < chunkBytes) continue;
        const joined = ownBuffer(parts, size);
        const end = joined.lastIndexOf(0x0a) + 1;
        const rest = Buffer.from(joined.subarray(end));
        yield joined.subarray(0, end);
        parts = [rest];
        size = rest.length;
      }
      if (size > 0) yield ownBuffer(parts, size);
      finished = true;
    } finally {
      // A COPY abandoned half-way (the verifier stops at the first failure) leaves the
      // connection mid-protocol: close it rather than return it to the pool.
      connection.release(!finished);
    }
  }

  /** Stored complete-subtree hashes, keyed `level:idx`. */
  async nodes(ids: readonly { level: number; index: number }[]): Promise<Map<string, Buffer>> {
    if (ids.length === 0) return new Map();
    const rows = await this.dataSource.query<{ level: number; idx: string; hash: Buffer }[]>(
      `SELECT n.level, n.idx, n.hash FROM ledger_merkle_nodes n
       JOIN unnest($1::smallint[], $2::bigint[]) AS want(level, idx) USING (level, idx)`,
      [ids.map((i) => i.level), ids.map((i) => i.index)],
    );
    return new Map(rows.map((r) => [`${r.level}:${r.idx}`, r.hash]));
  }

  async checkpoint(treeSize?: number): Promise<CheckpointRow | undefined> {
    const rows = await this.dataSource.query<
      { tree_size: string; root_hash: string; ts: Date; event_seq: string; jws: string }[]
    >(
      treeSize === undefined
        ? 'SELECT * FROM ledger_checkpoints ORDER BY tree_size DESC LIMIT 1'
        : 'SELECT * FROM ledger_checkpoints WHERE tree_size = $1',
      treeSize === undefined ? [] : [treeSize],
    );
    const row = rows[0];
    return row === undefined
      ? undefined
      : {
          treeSize: Number(row.tree_size),
          rootHash: row.root_hash,
          ts: row.ts.toISOString(),
          eventSeq: Number(row.event_seq),
          jws: row.jws,
        };
  }

  async checkpoints(fromSize: number, toSize: number): Promise<CheckpointRow[]> {
    const rows = await this.dataSource.query<
      { tree_size: string; root_hash: string; ts: Date; event_seq: string; jws: string }[]
    >('SELECT * FROM ledger_checkpoints WHERE tree_size BETWEEN $1 AND $2 ORDER BY tree_size', [
      fromSize,
      toSize,
    ]);
    return rows.map((row) => ({
      treeSize: Number(row.tree_size),
      rootHash: row.root_hash,
      ts: row.ts.toISOString(),
      eventSeq: Number(row.event_seq),
      jws: row.jws,
    }));
  }

  /**
   * The stored hashes of events (afterSeq, afterSeq + limit], in seq order: what a root at any
   * size is computed from once verification has shown each hash is its event's.
   */
  async hashesAfter(afterSeq: number, limit: number): Promise<string[]> {
    const rows = await this.dataSource.query<{ hash: string }[]>(
      'SELECT hash FROM ledger_events WHERE seq > $1 ORDER BY seq LIMIT $2',
      [afterSeq, limit],
    );
    return rows.map((r) => r.hash);
  }

  async hashAt(seq: number): Promise<string | undefined> {
    const [row] = await this.dataSource.query<{ hash: string }[]>(
      'SELECT hash FROM ledger_events WHERE seq = $1',
      [seq],
    );
    return row?.hash;
  }

  /** Events of one type before a seq, in order (key rotations, for the verifier). */
  async eventsOfTypeBefore(type: string, seq: number): Promise<EventRow[]> {
    const rows = await this.dataSource.query<RawEventRow[]>(
      `SELECT seq, id, ts, type, subject, canonical, hash, jws FROM ledger_events
       WHERE type = $1 AND seq < $2 ORDER BY seq`,
      [type, seq],
    );
    return rows.map(toEventRow);
  }

  /** Stored nodes of one level, indexes [from, from + count), in index order: one tile's hashes. */
  async nodeRun(level: number, from: number, count: number): Promise<Buffer[]> {
    const rows = await this.dataSource.query<{ hash: Buffer }[]>(
      `SELECT hash FROM ledger_merkle_nodes WHERE level = $1 AND idx >= $2 AND idx < $3 ORDER BY idx`,
      [level, from, from + count],
    );
    return rows.map((r) => r.hash);
  }

  /** The canonical text of events (afterSeq, afterSeq + count], in seq order. */
  async canonicalRun(
    afterSeq: number,
    count: number,
  ): Promise<{ seq: number; canonical: string }[]> {
    const rows = await this.dataSource.query<{ seq: string; canonical: string }[]>(
      'SELECT seq, canonical FROM ledger_events WHERE seq > $1 AND seq <= $2 ORDER BY seq',
      [afterSeq, afterSeq + count],
    );
    return rows.map((r) => ({ seq: Number(r.seq), canonical: r.canonical }));
  }

  /** Whether a checkpoint was made at a tree size in [from, to). */
  async checkpointBetween(from: bigint, to: bigint): Promise<boolean> {
    const [row] = await this.dataSource.query<{ found: boolean }[]>(
      'SELECT EXISTS (SELECT 1 FROM ledger_checkpoints WHERE tree_size >= $1 AND tree_size < $2) AS found',
      [from.toString(), to.toString()],
    );
    return row?.found === true;
  }

  /** The latest checkpoint's own event seq, read under the append lock. */
  async lastCheckpointEventSeq(tx: Queryable): Promise<number> {
    const [row] = await tx.query<{ seq: string | null }[]>(
      'SELECT max(event_seq) AS seq FROM ledger_checkpoints',
    );
    return Number(row?.seq ?? 0);
  }
}

function toEventRow(r: RawEventRow): EventRow {
  return {
    seq: Number(r.seq),
    id: r.id,
    ts: r.ts.toISOString(),
    type: r.type,
    subject: r.subject,
    canonical: r.canonical,
    hash: r.hash,
    jws: r.jws,
  };
}

/**
 * Concatenation into memory of its own: a chunk is transferred to a worker, and a small
 * Buffer.concat result may sit in Node's shared pool, which a transfer would detach.
 */
function ownBuffer(parts: readonly Buffer[], size: number): Buffer {
  const out = Buffer.allocUnsafeSlow(size);
  let offset = 0;
  for (const part of parts) offset += part.copy(out, offset);
  return out;
}
