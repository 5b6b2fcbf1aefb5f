import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { REPLICA_ID } from '../common/replica-id.js';
import { CONFIG } from '../config/config.module.js';
import type { Config } from '../config/config.js';
import { sqlStateOf, writeErrorMessage, writeFaultOf } from '../database/write-fault.js';
import { wellFormed } from '../prediction-log/prediction-digest.js';
import { addArmWindow, emptyArmWindow, groupCell, type ArmWindow } from './arm-window.js';
import { latencyBucket } from './latency-histogram.js';
import { GatehouseMetrics } from '../telemetry/metrics.js';
import {
  ArmMetricsRepository,
  type ArmKey,
  type FlushBeat,
  type FlushedWindow,
} from './arm-metrics.repository.js';

/** One answered (or failed) request as the arm metrics see it. */
export interface Observation extends ArmKey {
  readonly latencyMs: number;
  readonly failed: boolean;
  /** The score of each row, when the version has a score output. */
  readonly scores: ArrayLike<number> | null;
  /** The version's decision threshold; null for regression. */
  readonly threshold: number | null;
  /** Protected attributes the request named (`parameters.attributes`). */
  readonly attributes: Readonly<Record<string, string>> | null;
}

interface Open {
  readonly key: ArmKey;
  readonly window: ArmWindow;
  readonly start: Date;
}

/** What became of one row of a flush. */
type RowOutcome =
  | { readonly status: 'written' }
  | { readonly status: 'kept'; readonly error: unknown }
  | { readonly status: 'dropped'; readonly error: unknown };

/**
 * Counts what every arm of every endpoint does, in memory on the request path (a map lookup
 * and a few additions; the same observation feeds the OpenTelemetry instruments), and writes
 * the counts to `arm_metrics` every flush interval, one row per endpoint, version and arm that
 * saw traffic. The rollout controller sums those rows from every replica.
 *
 * One row cannot hold up the others. When the batch insert fails because of the database (a
 * lost connection, a shutdown), every row is kept and retried with the next flush: memory grows
 * with the number of arms, not with traffic. Otherwise the rows are written one by one: a row
 * whose values PostgreSQL refuses (write-fault.ts: a data exception or a constraint) would be
 * refused for ever, so it is dropped, counted (`gatehouse.arm_metrics.rows_dropped`) and
 * logged once per cause; a row refused for another reason is kept.
 *
 * Every flush also writes, apart, a heartbeat per endpoint (`arm_metrics_heartbeats`): whether
 * requests were counted, and since when counts are unwritten. The controller pauses a rollout
 * whose endpoint is served by a replica whose counts stopped arriving.
 */
@Injectable()
export class ArmMetricsRecorder implements OnApplicationBootstrap, OnApplicationShutdown {
  private static readonly logger = new Logger('ArmMetrics');
  /** Counted since the last flush. */
  private open = new Map<string, Open>();
  /** Counts a flush could not write, for the next one. */
  private held = new Map<string, Open>();
  /** Per row id, the cause last logged for it: a row failing the same way is logged once. */
  private readonly logged = new Map<string, string>();
  /** The last failure of a whole flush that was logged, until a flush writes again. */
  private failing: string | null = null;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private readonly flushMs: number;

  constructor(
    private readonly repository: ArmMetricsRepository,
    private readonly telemetry: GatehouseMetrics,
    @Inject(CONFIG) config: Config,
  ) {
    this.flushMs = config.rollouts.metricsFlushMs;
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.flush(), this.flushMs);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
    // A replica that is gone serves nothing: its heartbeats would only be read as stale.
    await this.repository.forget(REPLICA_ID).catch((error: unknown) => {
      ArmMetricsRecorder.logger.warn(
        `removing the arm-metrics heartbeats failed: ${String(error)}`,
      );
    });
  }

  record(o: Observation): void {
    this.telemetry.recordInference(o, o.latencyMs / 1000, o.failed);
    const w = this.windowOf(o);
    w.requests++;
    if (o.failed) w.errors++;
    const bucket = latencyBucket(o.latencyMs);
    w.latency[bucket] = (w.latency[bucket] ?? 0) + 1;
    if (o.scores === null || o.failed) return;
    const rows = o.scores.length;
    let selected = 0;
    if (o.threshold !== null)
      for (let i = 0; i < rows; i++) if ((o.scores[i] ?? Number.NaN) >= o.threshold) selected++;
    w.rows += rows;
    w.selected += selected;
    if (o.attributes === null || o.threshold === null) return;
    for (const [attribute, group] of Object.entries(o.attributes)) {
      const cell = groupCell(w.groups, attribute, group);
      cell[0] += rows;
      cell[1] += selected;
    }
  }

  /** A shadow answer compared with live's answer to the same request, row by row. */
  agreement(key: ArmKey, compared: number, agreed: number): void {
    this.telemetry.recordShadowComparison(key.endpoint, key.version, compared, compared - agreed);
    const w = this.windowOf(key);
    w.compared += compared;
    w.agreed += agreed;
  }

  /** A mirrored request dropped because the shadow queue was full. */
  shadowDropped(key: ArmKey): void {
    this.telemetry.recordShadowDropped(key.endpoint);
    this.windowOf(key).shadowDropped++;
  }

  /**
   * A request routed to the candidate and answered by live because the candidate's queue was
   * full. Live's answer is counted as live's; this only tells how often it happened.
   */
  candidateOverflow(key: ArmKey): void {
    this.telemetry.recordCandidateOverflow(key.endpoint, key.version);
  }

  /** Writes what was counted since the last flush. Flushes run one at a time. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.write());
    return this.flushing;
  }

  private async write(): Promise<void> {
    if (this.open.size === 0 && this.held.size === 0) return;
    const fresh = this.open;
    this.open = new Map();
    const rows = this.held;
    this.held = new Map();
    for (const [id, o] of fresh) {
      const kept = rows.get(id);
      if (kept) addArmWindow(kept.window, o.window);
      else rows.set(id, o);
    }
    const end = new Date();
    const outcomes = await this.writeRows(
      [...rows].map(([id, o]) => [id, { ...o.key, window: o.window, start: o.start, end }]),
    );
    const beats = new Map<string, { seen: boolean; written: boolean; cause: string | null }>();
    let kept: unknown = null;
    for (const [id, o] of rows) {
      const outcome = outcomes.get(id) ?? { status: 'kept', error: 'not written' };
      const beat = beats.get(o.key.endpoint) ?? { seen: false, written: true, cause: null };
      beats.set(o.key.endpoint, beat);
      if (fresh.has(id)) beat.seen = true;
      if (outcome.status === 'written') {
        this.logged.delete(id);
        continue;
      }
      beat.written = false;
      beat.cause ??= wellFormed(writeErrorMessage(outcome.error));
      if (outcome.status === 'kept') {
        this.held.set(id, o);
        kept ??= outcome.error;
      } else this.dropped(id, o, end, outcome.error);
    }
    this.reportKept(kept);
    try {
      await this.repository.heartbeat(
        REPLICA_ID,
        [...beats].map(([endpoint, b]): FlushBeat => ({ endpoint, ...b })),
      );
    } catch (error) {
      ArmMetricsRecorder.logger.warn(`writing the arm-metrics heartbeat failed: ${String(error)}`);
    }
  }

  /**
   * Inserts the rows in one statement; when that fails for a reason other than the database
   * itself, one by one, so that a row PostgreSQL refuses does not keep the others out.
   */
  private async writeRows(
    rows: readonly (readonly [string, FlushedWindow])[],
  ): Promise<Map<string, RowOutcome>> {
    const outcomes = new Map<string, RowOutcome>();
    try {
      await this.repository.insert(
        REPLICA_ID,
        rows.map(([, w]) => w),
      );
      for (const [id] of rows) outcomes.set(id, { status: 'written' });
      return outcomes;
    } catch (error) {
      if (rows.length === 1 || writeFaultOf(error) === 'transient') {
        for (const [id] of rows) outcomes.set(id, outcomeOf(error));
        return outcomes;
      }
    }
    for (const [id, w] of rows) {
      try {
        await this.repository.insert(REPLICA_ID, [w]);
        outcomes.set(id, { status: 'written' });
      } catch (error) {
        outcomes.set(id, outcomeOf(error));
      }
    }
    return outcomes;
  }

  private dropped(id: string, o: Open, end: Date, error: unknown): void {
    this.telemetry.recordArmMetricsRowDropped(o.key, sqlStateOf(error) ?? 'none');
    const cause = writeErrorMessage(error);
    if (this.logged.get(id) === cause) return;
    this.logged.set(id, cause);
    const { endpoint, version, arm } = o.key;
    ArmMetricsRecorder.logger.error(
      `arm metrics of ${endpoint} version ${version} (${arm}) from ${o.start.toISOString()} to ${end.toISOString()} ` +
        `(${o.window.requests} requests) were refused by PostgreSQL and dropped: ${cause}; ` +
        'further windows of this arm refused the same way are dropped without a log line',
    );
  }

  /** A flush that kept counts is logged when it starts failing, and when it stops. */
  private reportKept(error: unknown): void {
    if (error === null) {
      if (this.failing !== null)
        ArmMetricsRecorder.logger.log('arm metrics are written again, kept counts included');
      this.failing = null;
      return;
    }
    const cause = writeErrorMessage(error);
    if (cause === this.failing) return;
    this.failing = cause;
    ArmMetricsRecorder.logger.warn(
      `writing arm metrics failed, kept for the next flush (logged again only when the cause changes): ${cause}`,
    );
  }

  private windowOf(key: ArmKey): ArmWindow {
    const id = `${key.endpoint}\u0000${key.version}\u0000${key.arm}`;
    let o = this.open.get(id);
    if (!o) {
      o = {
        key: { endpoint: key.endpoint, version: key.version, arm: key.arm },
        window: emptyArmWindow(),
        start: new Date(),
      };
      this.open.set(id, o);
    }
    return o.window;
  }
}

function outcomeOf(error: unknown): RowOutcome {
  return writeFaultOf(error) === 'row' ? { status: 'dropped', error } : { status: 'kept', error };
}
