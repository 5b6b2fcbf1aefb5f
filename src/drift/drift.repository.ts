import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { ScoringSpec } from '../runtime/scoring.js';
import type { FeaturePsi, ServedPrediction, StoredDrift } from './drift-window.js';

/** An endpoint with a live version, and how that version is scored. */
export interface LiveVersion extends ScoringSpec {
  readonly endpoint: string;
  readonly endpointId: string;
  readonly modelVersionId: string;
  readonly version: number;
}

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

/** All SQL of drift monitoring. */
@Injectable()
export class DriftRepository {
  constructor(private readonly dataSource: DataSource) {}

  async liveVersions(endpoint?: string): Promise<LiveVersion[]> {
    const rows = await this.dataSource.query<
      {
        endpoint: string;
        endpoint_id: string;
        model_version_id: string;
        version: number;
        input_name: string;
        feature_columns: string[];
        score_output: string;
        score_index: number;
        threshold: number | null;
      }[]
    >(
      `SELECT e.name AS endpoint, e.id AS endpoint_id, v.id AS model_version_id, v.version,
              v.input_name, v.feature_columns, v.score_output, v.score_index, v.threshold
         FROM endpoints e
         JOIN model_versions v ON v.model_id = e.model_id AND v.version = e.live_version
        WHERE ($1::text IS NULL OR e.name = $1)
        ORDER BY e.name`,
      [endpoint ?? null],
    );
    return rows.map((r) => ({
      endpoint: r.endpoint,
      endpointId: r.endpoint_id,
      modelVersionId: r.model_version_id,
      version: r.version,
      inputName: r.input_name,
      featureColumns: r.feature_columns,
      scoreOutput: r.score_output,
      scoreIndex: r.score_index,
      threshold: r.threshold,
    }));
  }

  /**
   * The baseline of a live version: the evaluation its latest promotion to this endpoint was
   * made on, or else its latest successful evaluation.
   */
  async baseline(live: LiveVersion): Promise<{ evaluationId: string; drift: StoredDrift } | null> {
    const [row] = await this.dataSource.query<{ id: string; drift: StoredDrift }[]>(
      `SELECT ev.id, ev.result -> 'drift' AS drift
         FROM evaluations ev
        WHERE ev.model_version_id = $1 AND ev.status = 'SUCCEEDED' AND ev.result ? 'drift'
        ORDER BY ev.id = (SELECT pr.evaluation_id FROM promotion_requests pr
                           WHERE pr.endpoint_id = $2 AND pr.model_version_id = $1
                           ORDER BY pr.created_at DESC LIMIT 1) DESC NULLS LAST,
                 ev.finished_at DESC
        LIMIT 1`,
      [live.modelVersionId, live.endpointId],
    );
    return row ? { evaluationId: row.id, drift: row.drift } : null;
  }

  /** The most recent `limit` answered predictions of the live arm since `from`. */
  served(
    endpoint: string,
    version: number,
    from: Date,
    limit: number,
  ): Promise<ServedPrediction[]> {
    return this.dataSource.query<ServedPrediction[]>(
      `SELECT inputs, outputs FROM predictions
        WHERE endpoint = $1 AND model_version = $2 AND arm = 'live' AND outputs IS NOT NULL
          AND created_at >= $3
        ORDER BY created_at DESC
        LIMIT $4`,
      [endpoint, version, from, limit],
    );
  }

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
