import {
  Inject,
  Injectable,
  Logger,
  Optional,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { CONFIG } from '../config/config.module.js';
import type { Config, PredictionLogConfig } from '../config/config.js';
import { GatehouseMetrics } from '../telemetry/metrics.js';
import type { PredictionRecord } from './prediction.js';
import { BatchBuilder, type PreparedBatch } from './prediction-digest.js';
import { PredictionLogRepository } from './prediction-log.repository.js';
import { RowBuffers } from './row-buffers.js';

export interface PredictionLogStats {
  readonly enabled: boolean;
  /** Waiting to be written now. */
  readonly queued: number;
  /** Accepted into the queue since start. */
  readonly accepted: number;
  /** Written and sealed. */
  readonly written: number;
  /** Refused because the queue was full or the service was shutting down, or lost at shutdown. */
  readonly dropped: number;
  /** Batch writes that failed (their predictions went back to the queue while it had room). */
  readonly writeFailures: number;
  /** Batches sealed. */
  readonly batches: number;
  /** Predictions deleted by retention. */
  readonly purged: number;
}

const DROP_REPORT_INTERVAL_MS = 10_000;
const RETENTION_INTERVAL_MS = 60 * 60_000;
const RETENTION_FIRST_RUN_MS = 30_000;
const PURGE_CHUNK = 10_000;
const DAY_MS = 86_400_000;

/**
 * The prediction log. `record` only appends to a bounded in-memory queue — the request path
 * never waits for the database — and the rest happens off it: each prediction is serialized
 * into its endpoint's open batch on the next turn of the event loop, a batch is closed when
 * full or at the flush interval, and closed batches are written one at a time, each sealed
 * into the ledger with its digest. A full queue drops the new prediction and counts it:
 * serving is never slowed down or refused to keep the log, and the loss is visible (a
 * warning, `stats().dropped`). The queue is flushed on shutdown; what a crash loses is what
 * was queued.
 */
@Injectable()
export class PredictionLog implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private static readonly logger = new Logger('PredictionLog');
  private readonly options: PredictionLogConfig;
  /** Recorded, not yet serialized. */
  private pending: PredictionRecord[] = [];
  private preparing = false;
  /** Per endpoint, the batch predictions are joining. */
  private readonly open = new Map<string, BatchBuilder>();
  /** Buffers of written batches, for the next ones to write their rows into (16 MB at most). */
  private readonly buffers = new RowBuffers(128);
  /** Closed batches, oldest first, waiting for the writer. */
  private closed: PreparedBatch[] = [];
  /** Predictions in pending, open and closed: what the queue limit bounds. */
  private queued = 0;
  private counts = {
    accepted: 0,
    written: 0,
    dropped: 0,
    writeFailures: 0,
    batches: 0,
    purged: 0,
  };
  private writing: Promise<void> | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private retentionTimer: NodeJS.Timeout | undefined;
  private lastDropReport = 0;
  private droppedAtLastReport = 0;
  private stopped = false;
  private reportedStoppedDrop = false;

  constructor(
    private readonly repository: PredictionLogRepository,
    @Inject(CONFIG) config: Config,
    @Optional() metrics?: GatehouseMetrics,
  ) {
    this.options = config.predictionLog;
    // Backlog and drops are read at each scrape, not counted on the request path.
    metrics?.observePredictionLog(() => this.stats());
  }

  get enabled(): boolean {
    return this.options.enabled;
  }

  onApplicationBootstrap(): void {
    if (!this.options.enabled) return;
    this.flushTimer = setInterval(() => {
      this.closeAll();
      void this.write();
    }, this.options.flushIntervalMs).unref();
    if (this.options.retentionDays > 0) {
      const purge = (): void => {
        this.purgeExpired().catch((error: unknown) => {
          PredictionLog.logger.warn(`retention failed: ${messageOf(error)}`);
        });
      };
      this.retentionTimer = setTimeout(() => {
        purge();
        this.retentionTimer = setInterval(purge, RETENTION_INTERVAL_MS).unref();
      }, RETENTION_FIRST_RUN_MS).unref();
    }
  }

  /**
   * Queues a prediction; never throws, never waits. Serializing it is left to a task of its
   * own (`prepare`), after the response has gone.
   */
  record(prediction: PredictionRecord): void {
    if (!this.options.enabled) return;
    if (this.stopped) {
      // A request answered while the service shuts down: its prediction is not the queue's.
      this.counts.dropped++;
      if (!this.reportedStoppedDrop) {
        this.reportedStoppedDrop = true;
        PredictionLog.logger.warn(
          'shutting down: predictions of requests still being answered are not recorded',
        );
      }
      return;
    }
    if (this.queued >= this.options.queueLimit) {
      this.counts.dropped++;
      this.reportDrops();
      return;
    }
    this.pending.push(prediction);
    this.queued++;
    this.counts.accepted++;
    if (!this.preparing) {
      this.preparing = true;
      setImmediate(() => {
        this.prepare();
      });
    }
  }

  stats(): PredictionLogStats {
    return { enabled: this.options.enabled, queued: this.queued, ...this.counts };
  }

  /** Writes everything queued now; resolves when done (or when a write failed). */
  async flush(): Promise<void> {
    this.prepare();
    this.closeAll();
    while (this.writing) await this.writing;
    if (this.closed.length > 0) await this.write();
  }

  /**
   * Deletes predictions older than the retention period, endpoint by endpoint and in chunks,
   * each chunk with its ledger event. Returns how many were deleted.
   */
  async purgeExpired(now: Date = new Date()): Promise<number> {
    if (this.options.retentionDays <= 0) return 0;
    const cutoff = new Date(now.getTime() - this.options.retentionDays * DAY_MS);
    let total = 0;
    for (const endpoint of await this.repository.endpoints()) {
      for (;;) {
        const deleted = await this.repository.purgeBefore(endpoint, cutoff, PURGE_CHUNK);
        total += deleted;
        if (deleted < PURGE_CHUNK) break;
      }
    }
    this.counts.purged += total;
    if (total > 0)
      PredictionLog.logger.log(
        `retention: deleted ${total} predictions made before ${cutoff.toISOString()}`,
      );
    return total;
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.flushTimer);
    clearTimeout(this.retentionTimer);
    clearInterval(this.retentionTimer);
    if (!this.options.enabled) return;
    await this.flush();
    if (this.queued > 0) {
      this.counts.dropped += this.queued;
      PredictionLog.logger.error(
        `shutdown: ${this.queued} predictions could not be written and are lost`,
      );
    }
  }

  /** Serializes what was recorded since the last turn of the event loop into open batches. */
  private prepare(): void {
    this.preparing = false;
    const pending = this.pending;
    this.pending = [];
    for (const p of pending) {
      let batch = this.open.get(p.endpoint);
      if (!batch) {
        batch = new BatchBuilder(p.endpoint, this.buffers);
        this.open.set(p.endpoint, batch);
      }
      try {
        batch.add(p);
      } catch (error) {
        this.queued--;
        this.counts.dropped++;
        PredictionLog.logger.error(`a prediction could not be serialized: ${messageOf(error)}`);
        continue;
      }
      if (batch.count >= this.options.batchRows) {
        this.close(batch);
        void this.write();
      }
    }
  }

  private close(batch: BatchBuilder): void {
    this.open.delete(batch.endpoint);
    if (batch.count > 0) this.closed.push(batch.seal());
  }

  private closeAll(): void {
    for (const batch of [...this.open.values()]) this.close(batch);
  }

  /** Starts the writer unless it runs; it stops at the first failed write (the timer retries). */
  private write(): Promise<void> {
    if (this.writing) return this.writing;
    if (this.closed.length === 0) return Promise.resolve();
    this.writing = this.writeClosed().finally(() => {
      this.writing = undefined;
    });
    return this.writing;
  }

  private async writeClosed(): Promise<void> {
    for (let batch = this.closed.shift(); batch; batch = this.closed.shift()) {
      const count = batch.count;
      try {
        await this.repository.writeBatch(batch);
        this.buffers.give(batch.chunks);
        this.queued -= count;
        this.counts.written += count;
        this.counts.batches++;
      } catch (error) {
        this.counts.writeFailures++;
        PredictionLog.logger.warn(
          `writing ${count} predictions of ${batch.endpoint} failed: ${messageOf(error)}`,
        );
        if (this.stopped) {
          this.buffers.give(batch.chunks);
          this.queued -= count;
          this.counts.dropped += count;
        } else {
          // Sealed already: retried as it is, digest and all.
          this.closed.unshift(batch);
        }
        return;
      }
    }
  }

  private reportDrops(): void {
    const now = Date.now();
    if (now - this.lastDropReport < DROP_REPORT_INTERVAL_MS) return;
    const since = this.counts.dropped - this.droppedAtLastReport;
    this.lastDropReport = now;
    this.droppedAtLastReport = this.counts.dropped;
    PredictionLog.logger.warn(
      `prediction log queue full (limit ${this.options.queueLimit}): ${since} predictions dropped since the last report, ${this.counts.dropped} in all`,
    );
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
