import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { LedgerService } from '../ledger/ledger.service.js';
import { PREDICTION_LOG_ACTOR } from './batch-store.js';

/**
 * The prediction log's SQL on the application's data source: retention, and the lookup of an
 * answered request (feedback). Batches are written
 * by the log's writer on a connection of its own (batch-store.ts).
 */
@Injectable()
export class PredictionLogRepository {
  constructor(
    private readonly dataSource: DataSource,
    private readonly ledger: LedgerService,
  ) {}

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

  /** The first logged prediction of a request: its version and its first input's row count. */
  async answered(
    endpoint: string,
    requestId: string,
  ): Promise<{ modelVersion: number; rows: string | null } | null> {
    const [row] = await this.dataSource.query<{ model_version: number; rows: string | null }[]>(
      `SELECT p.model_version, p.inputs -> 0 -> 'shape' ->> 0 AS rows
         FROM predictions p
        WHERE p.endpoint = $1 AND p.request_id = $2
        ORDER BY p.id LIMIT 1`,
      [endpoint, requestId],
    );
    return row ? { modelVersion: row.model_version, rows: row.rows } : null;
  }
}
