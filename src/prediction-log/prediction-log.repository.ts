import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Injectable } from '@nestjs/common';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { DataSource, type EntityManager } from 'typeorm';
import { LedgerService, type Actor } from '../ledger/ledger.service.js';
import { turnBySlice } from './copy-rows.js';
import { COPY_COLUMNS, type PreparedBatch } from './prediction-digest.js';

export const PREDICTION_LOG_ACTOR: Actor = { sub: 'system:prediction-log' };

export interface SealedBatch {
  readonly batchId: number;
  readonly endpoint: string;
  readonly firstId: number;
  readonly lastId: number;
  readonly count: number;
  readonly sha256: string;
}

/**
 * All SQL of the prediction log. A batch (one endpoint's predictions) is written, its
 * `prediction_batches` row and its `predictions.logged` ledger event in one transaction: no
 * logged prediction without its seal, no seal without its predictions.
 */
@Injectable()
export class PredictionLogRepository {
  constructor(
    private readonly dataSource: DataSource,
    private readonly ledger: LedgerService,
  ) {}

  writeBatch(batch: PreparedBatch): Promise<SealedBatch> {
    const { endpoint, chunks, count, sha256 } = batch;
    if (count === 0) throw new Error('an empty prediction batch');
    return this.ledger.transaction(async (tx) => {
      const m = tx.manager;
      // The batch's number, and the value of every copied row's batch_id until the commit.
      const [next] = await m.query<{ id: string }[]>(
        `SELECT set_config('${BATCH_SETTING}', nextval('prediction_batches_id_seq')::text, true) AS id`,
      );
      const batchId = Number(next?.id);
      await copyPredictions(m, chunks);
      const [span] = await m.query<{ first: string; last: string; count: number }[]>(
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
      await m.query(
        `INSERT INTO prediction_batches (id, endpoint, first_id, last_id, count, sha256)
         VALUES ($1, $2, $3, $4, $5, $6)`,
        [batchId, endpoint, sealed.firstId, sealed.lastId, sealed.count, sha256],
      );
      tx.record({
        type: 'predictions.logged',
        subject: `endpoint:${endpoint}`,
        actor: PREDICTION_LOG_ACTOR,
        payload: { ...sealed },
      });
      return sealed;
    });
  }

  /**
   * Deletes up to `limit` of an endpoint's predictions made before `cutoff`, oldest first,
   * with a ledger event saying how many and which ids; the batch rows and their digests stay.
   * Returns the number deleted.
   */
  purgeBefore(endpoint: string, cutoff: Date, limit: number): Promise<number> {
    return this.ledger.transaction(async (tx) => {
      const [gone] = await tx.manager.query<
        { count: number; first_id: string | null; last_id: string | null }[]
      >(
        `WITH doomed AS (
           SELECT id FROM predictions
           WHERE endpoint = $1 AND created_at < $2
           ORDER BY created_at LIMIT $3
         ), gone AS (
           DELETE FROM predictions p USING doomed WHERE p.id = doomed.id RETURNING p.id
         )
         SELECT count(*)::int AS count, min(id) AS first_id, max(id) AS last_id FROM gone`,
        [endpoint, cutoff.toISOString(), limit],
      );
      const count = gone?.count ?? 0;
      if (count === 0) return 0;
      tx.record({
        type: 'predictions.purged',
        subject: `endpoint:${endpoint}`,
        actor: PREDICTION_LOG_ACTOR,
        payload: {
          endpoint,
          olderThan: cutoff.toISOString(),
          count,
          firstId: Number(gone?.first_id),
          lastId: Number(gone?.last_id),
        },
      });
      return count;
    });
  }

  /** Every endpoint name: predictions are only ever logged under one. */
  async endpoints(): Promise<string[]> {
    const rows = await this.dataSource.query<{ name: string }[]>(
      `SELECT name FROM endpoints ORDER BY name`,
    );
    return rows.map((r) => r.name);
  }
}

const COPY_PREDICTIONS = `COPY predictions (${COPY_COLUMNS}) FROM STDIN`;
/**
 * The transaction-local setting `predictions.batch_id` defaults to (migration
 * PredictionBatchDefault): set once per batch instead of written into every row. Outside a
 * batch's transaction it is unset or empty, and an insert without a batch id fails.
 */
const BATCH_SETTING = 'gatehouse.prediction_batch';

/**
 * The batch's rows into the table with COPY, on the transaction's own connection; PostgreSQL
 * numbers them in the order given. The tensors go in as the JSON text the digest covers;
 * `inputs` and `outputs` are json columns, which keep it. The rows go out a slice at a time,
 * each in a turn of the event loop of its own (COPY_WRITE_BYTES).
 */
async function copyPredictions(m: EntityManager, chunks: Iterable<Buffer>): Promise<void> {
  if (!m.queryRunner) throw new Error('COPY needs the transaction’s query runner');
  const client = (await m.queryRunner.connect()) as pg.PoolClient;
  await pipeline(Readable.from(turnBySlice(chunks)), client.query(copyFrom(COPY_PREDICTIONS)));
}
