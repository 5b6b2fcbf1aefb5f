import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { PredictionArm } from '../prediction-log/prediction.js';

export interface FeedbackRow {
  label: number;
  received_by: string;
  received_at: Date;
}

/** An arm of an endpoint's version, whose predictions are meant. */
export interface ArmScope {
  readonly endpoint: string;
  readonly version: number;
  readonly arm: PredictionArm;
}

/** A logged score (null where the output held none) and the label its request received. */
export interface LabelledScore {
  score: number | null;
  label: number;
}

/** All database access of ground-truth labels (`feedback`), and labels joined to predictions. */
@Injectable()
export class FeedbackRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Inserts the label unless the request already has one: the row when this call inserted it. */
  async insertIfAbsent(
    endpoint: string,
    requestId: string,
    label: number,
    receivedBy: string,
  ): Promise<FeedbackRow | undefined> {
    const inserted = await this.dataSource.query<FeedbackRow[]>(
      `INSERT INTO feedback (endpoint, request_id, label, received_by)
       VALUES ($1, $2, $3, $4)
       ON CONFLICT (endpoint, request_id) DO NOTHING
       RETURNING label, received_by, received_at`,
      [endpoint, requestId, label, receivedBy],
    );
    return inserted[0];
  }

  /**
   * The newest `limit` labelled scores of an arm since `since`: the logged score of each
   * answered request that has a label, with the label. Labels have no meaning apart from the
   * prediction they label, so this one query joins `predictions`.
   */
  labelledScores(
    scope: ArmScope,
    score: { output: string; index: number },
    since: Date,
    limit: number,
  ): Promise<LabelledScore[]> {
    return this.dataSource.query<LabelledScore[]>(
      `SELECT (o.value -> 'data' ->> $5::int)::float8 AS score, f.label
         FROM feedback f
         JOIN predictions p ON p.request_id = f.request_id AND p.endpoint = f.endpoint
         CROSS JOIN LATERAL json_array_elements(p.outputs) AS o(value)
        WHERE f.endpoint = $1 AND p.model_version = $2 AND p.arm = $3 AND p.created_at >= $4
          AND p.outputs IS NOT NULL AND o.value ->> 'name' = $6
        ORDER BY p.id DESC
        LIMIT $7`,
      [scope.endpoint, scope.version, scope.arm, since, score.index, score.output, limit],
    );
  }

  async find(endpoint: string, requestId: string): Promise<FeedbackRow | undefined> {
    const rows = await this.dataSource.query<FeedbackRow[]>(
      `SELECT label, received_by, received_at FROM feedback
        WHERE endpoint = $1 AND request_id = $2`,
      [endpoint, requestId],
    );
    return rows[0];
  }
}
