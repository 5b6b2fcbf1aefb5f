import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { checkOut } from '../database/checked-out-client.js';
import { queueEvents, queuedEventOf } from '../ledger/ledger-queue.js';
import type { QueuedEvent } from '../ledger/ledger-sequencer.service.js';
import { COPY_COLUMNS, type PreparedBatch } from './prediction-digest.js';

export const PREDICTION_LOG_ACTOR = { sub: 'system:prediction-log' } as const;

export interface SealedBatch {
  readonly batchId: number;
  readonly endpoint: string;
  readonly firstId: number;
  readonly lastId: number;
  readonly count: number;
  readonly sha256: string;
}

/** A batch committed with its seal: the `predictions.logged` event queued for the chain. */
export interface StoredBatch {
  readonly sealed: SealedBatch;
  readonly event: QueuedEvent;
}

/**
 * Where the log's writer puts its batches: a connection of its own (the writer runs on a
 * thread of its own, without the application's data source). A batch (one endpoint's
 * predictions), its `prediction_batches` row and its `predictions.logged` ledger event are
 * written in one transaction: no logged prediction without its seal, no seal without its
 * predictions. The event is queued in that transaction (`ledger_pending`); the application's
 * sequencer seals it into the chain, and its sweep does so for a writer that stopped first.
 */
export class BatchStore {
  private readonly pool: pg.Pool;

  /** `timeoutMs`: how long a write waits to connect, or for one statement, before it fails. */
  constructor(url: string, timeoutMs = DEFAULT_TIMEOUT_MS) {
    // One connection: batches are written one at a time, in order.
    this.pool = new pg.Pool({
      connectionString: url,
      max: 1,
      application_name: 'gatehouse-prediction-log',
      // An idle connection does not keep a process alive that has nothing else to do.
      allowExitOnIdle: true,
      // A database that does not answer fails the write (spooled, tried again at the next
      // flush) instead of holding the writer, and a shutdown's flush, for ever: a connection
      // not made in time, or a statement not answered in time on one that was.
      connectionTimeoutMillis: timeoutMs,
      query_timeout: timeoutMs,
    });
    // A connection lost while idle is replaced at the next write; the write reports failures.
    this.pool.on('error', () => undefined);
  }

  /**
   * Writes the batch with its seal. `retried`: an earlier attempt failed, perhaps after its
   * commit got through (the database answered too late, or the connection died with the
   * answer); a batch already sealed under the same endpoint and digest is not written twice,
   * and the answer is null.
   */
  async write(batch: PreparedBatch, retried = false): Promise<StoredBatch | null> {
    const { endpoint, sha256 } = batch;
    if (batch.count === 0) throw new Error('an empty prediction batch');
    // The connection's error is the write's: it fails the statement, and the writer reports it.
    const connection = await checkOut(this.pool, () => undefined);
    const client = connection.client;
    const query = async <T>(sql: string, params?: unknown[]): Promise<T> =>
      (await client.query(sql, params)).rows as T;
    let broken: unknown;
    try {
      await client.query('BEGIN');
      if (retried) {
        const [found] = await query<{ id: string }[]>(
          'SELECT id FROM prediction_batches WHERE sha256 = $1 AND endpoint = $2 LIMIT 1',
          [sha256, endpoint],
        );
        if (found) {
          await client.query('ROLLBACK');
          return null;
        }
      }
      const stored = await writeBatchIn(client, batch);
      await client.query('COMMIT');
      return stored;
    } catch (error) {
      await client.query('ROLLBACK').catch((rollback: unknown) => {
        broken = rollback;
      });
      throw error;
    } finally {
      // A connection that could not even roll back is not given to the next batch.
      connection.release(broken !== undefined);
    }
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

/**
 * Writes a batch, its `prediction_batches` row and its `predictions.logged` event (queued) in
 * the caller's open transaction on `client`. The log's writer wraps it in a transaction of its
 * own; an upload of device predictions (src/edge) writes its own rows in the same one, so the
 * batch and what the upload records beside it commit together or not at all.
 */
export async function writeBatchIn(
  client: pg.ClientBase,
  batch: PreparedBatch,
): Promise<StoredBatch> {
  const { endpoint, chunks, count, sha256 } = batch;
  if (count === 0) throw new Error('an empty prediction batch');
  const query = async <T>(sql: string, params?: unknown[]): Promise<T> =>
    (await client.query(sql, params)).rows as T;
  // The batch's number, and the value of every copied row's batch_id until the commit.
  const [next] = await query<{ id: string }[]>(
    `SELECT set_config('${BATCH_SETTING}', nextval('prediction_batches_id_seq')::text, true) AS id`,
  );
  const batchId = Number(next?.id);
  await pipeline(Readable.from(chunks), client.query(copyFrom(COPY_PREDICTIONS)));
  const [span] = await query<{ first: string; last: string; count: number }[]>(
    `SELECT min(id) AS first, max(id) AS last, count(*)::int AS count
     FROM predictions WHERE batch_id = $1`,
    [batchId],
  );
  if (span?.count !== count)
    throw new Error(`batch ${batchId}: ${span?.count ?? 0} rows written of ${count}`);
  const sealed: SealedBatch = {
    batchId,
    endpoint,
    firstId: Number(span.first),
    lastId: Number(span.last),
    count,
    sha256,
  };
  await query(
    `INSERT INTO prediction_batches (id, endpoint, first_id, last_id, count, sha256)
     VALUES ($1, $2, $3, $4, $5, $6)`,
    [batchId, endpoint, sealed.firstId, sealed.lastId, sealed.count, sha256],
  );
  // No trace: the batch gathers predictions of many requests.
  const row = queuedEventOf(
    {
      type: 'predictions.logged',
      subject: `endpoint:${endpoint}`,
      actor: PREDICTION_LOG_ACTOR,
      payload: { ...sealed },
    },
    null,
  );
  const [id] = await queueEvents({ query }, [row]);
  return { sealed, event: { ...row, id } };
}

/** A batch's prediction ids, in the batch's order (as COPY numbered them), in the caller's transaction. */
export async function predictionIdsOf(client: pg.ClientBase, batchId: number): Promise<number[]> {
  const ids = await client.query<{ id: string }>(
    'SELECT id FROM predictions WHERE batch_id = $1 ORDER BY id',
    [batchId],
  );
  return ids.rows.map((r) => Number(r.id));
}

/** Far above a batch's write (milliseconds), far below a stalled writer being noticed. */
const DEFAULT_TIMEOUT_MS = 10_000;
const COPY_PREDICTIONS = `COPY predictions (${COPY_COLUMNS}) FROM STDIN`;
/**
 * The transaction-local setting `predictions.batch_id` defaults to (migration
 * PredictionBatchDefault): set once per batch instead of written into every row. Outside a
 * batch's transaction it is unset or empty, and an insert without a batch id fails.
 */
const BATCH_SETTING = 'gatehouse.prediction_batch';
