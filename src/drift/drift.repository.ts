import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { FeaturePsi } from './drift-window.js';

export interface DriftStatusRow {
  readonly endpoint: string;
  readonly version: number;
  readonly evaluationId: string;
  readonly alerting: boolean;
  readonly episodeStartedAt: Date | null;
  readonly checkedAt: Date;
  readonly windowStart: Date;
  readonly windowEnd: Date;
  readonly rows: number;
  readonly threshold: number;
  readonly scorePsi: number | null;
  readonly features: readonly FeaturePsi[];
}

interface StatusRecord {
  endpoint: string;
  model_version: number;
  evaluation_id: string;
  alerting: boolean;
  episode_started_at: Date | null;
  checked_at: Date;
  window_start: Date;
  window_end: Date;
  rows: number;
  threshold: number;
  score_psi: number | null;
  feature_psi: FeaturePsi[];
}

const STATUS_COLUMNS = `endpoint, model_version, evaluation_id, alerting, episode_started_at,
  checked_at, window_start, window_end, rows, threshold, score_psi, feature_psi`;

function statusOf(r: StatusRecord): DriftStatusRow {
  return {
    endpoint: r.endpoint,
    version: r.model_version,
    evaluationId: r.evaluation_id,
    alerting: r.alerting,
    episodeStartedAt: r.episode_started_at,
    checkedAt: r.checked_at,
    windowStart: r.window_start,
    windowEnd: r.window_end,
    rows: r.rows,
    threshold: r.threshold,
    scorePsi: r.score_psi,
    features: r.feature_psi,
  };
}

/** All SQL of drift monitoring: its own table, `drift_status`. */
@Injectable()
export class DriftRepository {
  constructor(private readonly dataSource: DataSource) {}

  async status(endpoint: string, version: number): Promise<DriftStatusRow | null> {
    const [row] = await this.dataSource.query<StatusRecord[]>(
      `SELECT ${STATUS_COLUMNS} FROM drift_status WHERE endpoint = $1 AND model_version = $2`,
      [endpoint, version],
    );
    return row ? statusOf(row) : null;
  }

  /** The row of this endpoint and version, locked until the unit of work ends; null if none. */
  async lockStatus(
    m: EntityManager,
    endpoint: string,
    version: number,
  ): Promise<DriftStatusRow | null> {
    const [row] = await m.query<StatusRecord[]>(
      `SELECT ${STATUS_COLUMNS} FROM drift_status
        WHERE endpoint = $1 AND model_version = $2 FOR UPDATE`,
      [endpoint, version],
    );
    return row ? statusOf(row) : null;
  }

  /** Creates the row if it is missing, so that it can be locked. */
  async ensureStatus(m: EntityManager, s: DriftStatusRow): Promise<void> {
    await m.query(
      `INSERT INTO drift_status (${STATUS_COLUMNS})
       VALUES ($1, $2, $3, false, NULL, $4, $5, $6, 0, $7, NULL, '[]')
       ON CONFLICT (endpoint, model_version) DO NOTHING`,
      [s.endpoint, s.version, s.evaluationId, s.checkedAt, s.windowStart, s.windowEnd, s.threshold],
    );
  }

  async saveStatus(m: EntityManager, s: DriftStatusRow): Promise<void> {
    await m.query(
      `UPDATE drift_status
          SET evaluation_id = $3, alerting = $4, episode_started_at = $5, checked_at = $6,
              window_start = $7, window_end = $8, rows = $9, threshold = $10, score_psi = $11,
              feature_psi = $12::jsonb
        WHERE endpoint = $1 AND model_version = $2`,
      [
        s.endpoint,
        s.version,
        s.evaluationId,
        s.alerting,
        s.episodeStartedAt,
        s.checkedAt,
        s.windowStart,
        s.windowEnd,
        s.rows,
        s.threshold,
        s.scorePsi,
        JSON.stringify(s.features),
      ],
    );
  }
}
