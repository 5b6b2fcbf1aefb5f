import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { PredictionArm } from '../prediction-log/prediction.js';
import { addArmWindow, emptyArmWindow, type ArmWindow } from './arm-window.js';

export interface ArmKey {
  readonly endpoint: string;
  readonly version: number;
  readonly arm: PredictionArm;
}

export interface FlushedWindow extends ArmKey {
  readonly window: ArmWindow;
  readonly start: Date;
  readonly end: Date;
}

/** What one flush of a replica says about one endpoint (`arm_metrics_heartbeats`). */
export interface FlushBeat {
  readonly endpoint: string;
  /** Whether the replica counted requests of the endpoint since its previous flush. */
  readonly seen: boolean;
  /** Whether every count of the endpoint it held was written. */
  readonly written: boolean;
  /** Why some were not; null when they all were. */
  readonly cause: string | null;
}

/** A replica's heartbeat for an endpoint, as the controller reads it. */
export interface MetricsHeartbeat {
  readonly replica: string;
  readonly endpoint: string;
  readonly seenAt: Date | null;
  readonly writtenAt: Date | null;
  readonly unwrittenSince: Date | null;
  readonly cause: string | null;
}

interface HeartbeatRow {
  replica: string;
  endpoint: string;
  seen_at: Date | null;
  written_at: Date | null;
  unwritten_since: Date | null;
  cause: string | null;
  now: Date;
}

interface Row {
  requests: number;
  errors: number;
  rows: number;
  selected: number;
  latency_buckets: number[];
  compared: number;
  agreed: number;
  groups: ArmWindow['groups'];
  shadow_dropped: number;
}

/**
 * The `arm_metrics` table: small windows each replica flushes, summed on read. Reads are by
 * endpoint, version, arm and time, which the (endpoint, model_version, window_start) index
 * serves; a window counts when it ended after `since`, so the window in progress at a stage
 * change is counted in the new stage (the candidate is the same version on either side).
 */
@Injectable()
export class ArmMetricsRepository {
  constructor(private readonly dataSource: DataSource) {}

  async insert(replica: string, windows: readonly FlushedWindow[]): Promise<void> {
    if (windows.length === 0) return;
    const values: unknown[] = [];
    const tuples = windows.map((w, i) => {
      const o = i * 15;
      values.push(
        w.endpoint,
        w.version,
        w.arm,
        replica,
        w.start,
        w.end,
        w.window.requests,
        w.window.errors,
        w.window.rows,
        w.window.selected,
        w.window.latency,
        w.window.compared,
        w.window.agreed,
        JSON.stringify(w.window.groups),
        w.window.shadowDropped,
      );
      return `(${Array.from({ length: 15 }, (_, k) => `$${o + k + 1}`).join(', ')})`;
    });
    await this.dataSource.query(
      `INSERT INTO arm_metrics (endpoint, model_version, arm, replica, window_start, window_end,
         requests, errors, rows, selected, latency_buckets, compared, agreed, groups, shadow_dropped)
       VALUES ${tuples.join(', ')}`,
      values,
    );
  }

  /**
   * Records, per endpoint of a flush, whether the replica saw requests and whether their
   * counts were written — in a statement of its own, so that it lands when the counts did
   * not. Times are PostgreSQL's (`now()`), like the controller's that compares them.
   * `unwritten_since` keeps the first failure until a flush writes everything again.
   */
  async heartbeat(replica: string, beats: readonly FlushBeat[]): Promise<void> {
    if (beats.length === 0) return;
    await this.dataSource.query(
      `INSERT INTO arm_metrics_heartbeats AS h
              (endpoint, replica, seen_at, written_at, unwritten_since, cause, updated_at)
       SELECT e, $1, CASE WHEN s THEN now() END, CASE WHEN w THEN now() END,
              CASE WHEN w THEN NULL ELSE now() END, c, now()
         FROM unnest($2::text[], $3::boolean[], $4::boolean[], $5::text[]) AS t(e, s, w, c)
       ON CONFLICT (endpoint, replica) DO UPDATE SET
         seen_at = coalesce(EXCLUDED.seen_at, h.seen_at),
         written_at = coalesce(EXCLUDED.written_at, h.written_at),
         unwritten_since = CASE WHEN EXCLUDED.written_at IS NOT NULL THEN NULL
                                ELSE coalesce(h.unwritten_since, EXCLUDED.unwritten_since) END,
         cause = EXCLUDED.cause,
         updated_at = EXCLUDED.updated_at`,
      [
        replica,
        beats.map((b) => b.endpoint),
        beats.map((b) => b.seen),
        beats.map((b) => b.written),
        beats.map((b) => b.cause),
      ],
    );
  }

  /** A replica that stops measuring (a clean shutdown) takes its heartbeats with it. */
  async forget(replica: string): Promise<void> {
    await this.dataSource.query(`DELETE FROM arm_metrics_heartbeats WHERE replica = $1`, [replica]);
  }

  /**
   * Every replica's heartbeat for the endpoint, and PostgreSQL's time now, to measure their
   * age against: whether counts stopped arriving, and until when they did arrive.
   */
  async heartbeats(endpoint: string): Promise<{ now: Date; beats: MetricsHeartbeat[] }> {
    const rows = await this.dataSource.query<(HeartbeatRow | { now: Date; replica: null })[]>(
      `SELECT h.replica, h.endpoint, h.seen_at, h.written_at, h.unwritten_since, h.cause,
              t.now
         FROM (SELECT now() AS now) t
         LEFT JOIN arm_metrics_heartbeats h ON h.endpoint = $1`,
      [endpoint],
    );
    const beats = rows.filter((r): r is HeartbeatRow => r.replica !== null);
    return {
      now: rows[0]?.now ?? new Date(),
      beats: beats.map((r) => ({
        replica: r.replica,
        endpoint: r.endpoint,
        seenAt: r.seen_at,
        writtenAt: r.written_at,
        unwrittenSince: r.unwritten_since,
        cause: r.cause,
      })),
    };
  }

  /** The sum of the arm's windows that ended after `since` (and, if given, began before `until`). */
  async sum(key: ArmKey, since: Date, until?: Date): Promise<ArmWindow> {
    const rows = await this.dataSource.query<Row[]>(
      `SELECT requests, errors, rows, selected, latency_buckets, compared, agreed, groups,
              shadow_dropped
         FROM arm_metrics
        WHERE endpoint = $1 AND model_version = $2 AND arm = $3 AND window_end > $4
          AND ($5::timestamptz IS NULL OR window_start < $5)`,
      [key.endpoint, key.version, key.arm, since, until ?? null],
    );
    const total = emptyArmWindow();
    for (const r of rows)
      addArmWindow(total, {
        requests: r.requests,
        errors: r.errors,
        rows: r.rows,
        selected: r.selected,
        latency: r.latency_buckets,
        compared: r.compared,
        agreed: r.agreed,
        groups: r.groups,
        shadowDropped: r.shadow_dropped,
      });
    return total;
  }

  /** Requests of the arm since `since`: a stage's progress, without fetching histograms. */
  async requests(key: ArmKey, since: Date): Promise<number> {
    const [row] = await this.dataSource.query<{ n: string | null }[]>(
      `SELECT sum(requests) AS n FROM arm_metrics
        WHERE endpoint = $1 AND model_version = $2 AND arm = $3 AND window_end > $4`,
      [key.endpoint, key.version, key.arm, since],
    );
    return Number(row?.n ?? 0);
  }
}
