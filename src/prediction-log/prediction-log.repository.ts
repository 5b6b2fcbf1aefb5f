import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { LedgerService } from '../ledger/ledger.service.js';
import { PREDICTION_LOG_ACTOR } from './batch-store.js';
import type { PredictionArm } from './prediction.js';

/** A logged request's input tensors and its answer's outputs, as stored. */
export interface LoggedExchange {
  inputs: unknown;
  outputs: unknown;
}

/** One logged output tensor's values and shape. */
export interface LoggedOutput {
  data: number[];
  shape: number[];
}

/** One output of an arm of an endpoint's version. */
export interface OutputScope {
  readonly endpoint: string;
  readonly version: number;
  readonly arm: PredictionArm;
  readonly output: string;
}

/**
 * The prediction log's SQL on the application's data source: retention, and the lookup of an
 * answered request, served inputs and outputs (drift, rollouts). Batches are written
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

  /** The most recent `limit` answered predictions of the live arm since `from`. */
  servedLive(
    endpoint: string,
    version: number,
    from: Date,
    limit: number,
  ): Promise<LoggedExchange[]> {
    return this.dataSource.query<LoggedExchange[]>(
      `SELECT inputs, outputs FROM predictions
        WHERE endpoint = $1 AND model_version = $2 AND arm = 'live' AND outputs IS NOT NULL
          AND created_at >= $3
        ORDER BY created_at DESC
        LIMIT $4`,
      [endpoint, version, from, limit],
    );
  }

  /** The newest `limit` logged values of one output of an arm since `since`, newest first. */
  outputValues(scope: OutputScope, since: Date, limit: number): Promise<LoggedOutput[]> {
    return this.dataSource.query<LoggedOutput[]>(
      `SELECT o.value -> 'data' AS data, o.value -> 'shape' AS shape
         FROM predictions p
         CROSS JOIN LATERAL json_array_elements(p.outputs) AS o(value)
        WHERE p.endpoint = $1 AND p.model_version = $2 AND p.arm = $3 AND p.created_at >= $4
          AND p.outputs IS NOT NULL AND o.value ->> 'name' = $5
        ORDER BY p.id DESC
        LIMIT $6`,
      [scope.endpoint, scope.version, scope.arm, since, scope.output, limit],
    );
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
