import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { LedgerService } from '../ledger/ledger.service.js';
import { PREDICTION_LOG_ACTOR } from './batch-store.js';

/**
 * The prediction log's SQL on the application's data source: retention. Batches are written
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

  /** Every endpoint name: predictions are only ever logged under one. */
  async endpoints(): Promise<string[]> {
    const rows = await this.dataSource.query<{ name: string }[]>(
      `SELECT name FROM endpoints ORDER BY name`,
    );
    return rows.map((r) => r.name);
  }
}
