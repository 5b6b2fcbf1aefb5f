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
import { addArmWindow, emptyArmWindow, type ArmWindow } from '../rollouts/arm-window.js';
import { latencyBucket } from '../rollouts/latency-histogram.js';
import { GatehouseMetrics } from '../telemetry/metrics.js';
import { ArmMetricsRepository, type ArmKey, type FlushedWindow } from './arm-metrics.repository.js';

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

/**
 * Counts what every arm of every endpoint does, in memory on the request path (a map lookup
 * and a few additions; the same observation feeds the OpenTelemetry instruments), and writes the counts to `arm_metrics` every flush interval, one row
 * per endpoint, version and arm that saw traffic. The rollout controller sums those rows from
 * every replica. A failed write keeps the counts and retries them with the next flush: memory
 * grows with the number of arms, not with traffic.
 */
@Injectable()
export class ArmMetricsRecorder implements OnApplicationBootstrap, OnApplicationShutdown {
  private static readonly logger = new Logger('ArmMetrics');
  private open = new Map<string, Open>();
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
      const byGroup = (w.groups[attribute] ??= {});
      const cell = (byGroup[group] ??= [0, 0]);
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

  /** Writes what was counted since the last flush. Flushes run one at a time. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.write());
    return this.flushing;
  }

  private async write(): Promise<void> {
    if (this.open.size === 0) return;
    const taken = this.open;
    this.open = new Map();
    const end = new Date();
    const windows: FlushedWindow[] = [...taken.values()].map((o) => ({
      ...o.key,
      window: o.window,
      start: o.start,
      end,
    }));
    try {
      await this.repository.insert(REPLICA_ID, windows);
    } catch (error) {
      ArmMetricsRecorder.logger.warn(
        `writing arm metrics failed, kept for the next flush: ${String(error)}`,
      );
      for (const [id, o] of taken) {
        const now = this.open.get(id);
        if (now) addArmWindow(o.window, now.window);
        this.open.set(id, o);
      }
    }
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
