import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

export interface FeedbackRow {
  label: number;
  received_by: string;
  received_at: Date;
}

/** All database access of ground-truth labels (`feedback`). */
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

  async find(endpoint: string, requestId: string): Promise<FeedbackRow | undefined> {
    const rows = await this.dataSource.query<FeedbackRow[]>(
      `SELECT label, received_by, received_at FROM feedback
        WHERE endpoint = $1 AND request_id = $2`,
      [endpoint, requestId],
    );
    return rows[0];
  }
}
