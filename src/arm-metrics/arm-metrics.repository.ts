import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { PredictionArm } from '../prediction-log/prediction.js';
import { addArmWindow, emptyArmWindow, type ArmWindow } from '../rollouts/arm-window.js';

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
