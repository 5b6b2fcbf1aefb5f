import {
  Inject,
  Injectable,
  Logger,
  Optional,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { CONFIG } from '../config/config.module.js';
import type { Config, PredictionLogConfig } from '../config/config.js';
import { Database } from '../database/database.module.js';
import { EndpointsService } from '../endpoints/endpoints.service.js';
import { LedgerService } from '../ledger/ledger.service.js';
import { GatehouseMetrics } from '../telemetry/metrics.js';
import type { WriterDropReason, WriterReport } from './log-writer.js';
import type { PredictionRecord } from './prediction.js';
import {
  PredictionLogRepository,
  type LoggedExchange,
  type LoggedOutput,
  type OutputScope,
} from './prediction-log.repository.js';
import { RecordPacker } from './record-codec.js';
import { Settlements, type LogDropReason, type LogOutcome } from './settlements.js';
import { startWriter, type WriterHost } from './writer-host.js';

export interface PredictionLogStats {
  readonly enabled: boolean;
  /** Waiting in memory to be written now. */
  readonly queued: number;
  /** Waiting in the spool, on disk, to be written now. */
  readonly spooled: number;
  /** Accepted into the queue since start. */
  readonly accepted: number;
  /** Written and sealed. */
  readonly written: number;
  /** Refused because the queue was full or the service was shutting down, or lost at shutdown. */
  readonly dropped: number;
  /** Requests refused because their endpoint requires the log and it could take no more. */
  readonly refused: number;
  /** Batch writes that failed (their predictions are kept for the next attempt). */
  readonly writeFailures: number;
  /** Batches sealed. */
  readonly batches: number;
  /** Predictions deleted by retention. */
  readonly purged: number;
}

const DROP_REPORT_INTERVAL_MS = 10_000;

const WRITTEN: LogOutcome = { kind: 'written' };
const SPOOLED: LogOutcome = { kind: 'spooled' };
const DISABLED: LogOutcome = { kind: 'dropped', reason: 'disabled', message: 'the log is off' };
const SHUTTING_DOWN: LogOutcome = {
  kind: 'dropped',
  reason: 'shutting-down',
  message: 'the service is shutting down',
};
const QUEUE_FULL: LogOutcome = {
  kind: 'dropped',
  reason: 'queue-full',
  message: 'the log queue is full',
};

/** What a prediction the writer gave up tells its caller. */
const DROP_REASONS: Readonly<Record<WriterDropReason, LogDropReason>> = {
  refused: 'refused',
  invalid: 'invalid',
  // Which predictions of a hand-over it could not read were whose is unknown: the writer is
  // replaced, as one that failed, and what it held is given up.
  unreadable: 'writer-lost',
  stopped: 'shutting-down',
  shutdown: 'shutting-down',
};
const RETENTION_INTERVAL_MS = 60 * 60_000;
const RETENTION_FIRST_RUN_MS = 30_000;
const PURGE_CHUNK = 10_000;
const DAY_MS = 86_400_000;
/**
 * Predictions are handed to the writer this many at a time at the most, and at the latest
 * this long after the first of them. A message to another thread costs the event loop about the
 * same whatever it carries, and several times more under load (waking a thread on the other
 * core is dear on a virtual machine), so messages are made rare: at one per 200 ms their share
 * of a request is negligible, where one per 10 ms was not (docs/benchmarks.md).
 */
const HANDOVER_ROWS = 2048;
const HANDOVER_MS = 200;
/**
 * While a caller waits for its prediction's outcome (`recordDurably`: a stream message is
 * acknowledged only once its prediction is safe), the hand-over comes this soon instead, and
 * the writer closes and writes the batch as soon as it is free (a group commit). Waiting for
 * the 200 ms hand-over and the flush interval would hold each message about half a second, and
 * the broker lets only so many out unacknowledged: throughput would be that count over half a
 * second. A few milliseconds still gather a consumer's pull of messages into one hand-over.
 */
const DURABLE_HANDOVER_MS = 5;

/**
 * The prediction log. `record` only packs the prediction into a buffer — the request path
 * never waits for the database — and hands it over, every 200 ms or so, to the log's
 * writer (log-writer.ts), which runs on a thread of its own: it serializes each prediction
 * into its endpoint's open batch, closes a batch when full or at the flush interval, and
 * writes closed batches one at a time, each committed with its ledger event queued; this
 * side then has the event sealed into the chain. The queue limit bounds the predictions
 * accepted and not yet written, wherever they are: beyond it a new prediction is dropped and
 * counted, so serving is never slowed down or refused to keep the log, and the loss is
 * visible (a warning, `stats().dropped`). The queue is flushed on shutdown; what a crash
 * loses is what was queued.
 */
@Injectable()
export class PredictionLog implements OnApplicationBootstrap, OnApplicationShutdown {
  private static readonly logger = new Logger('PredictionLog');
  private readonly options: PredictionLogConfig;
  /** Recorded, not yet handed over. */
  private readonly packer = new RecordPacker();
  private handoverTimer: NodeJS.Timeout | undefined;
  /** When the pending hand-over is due: the timer is moved earlier for a waiting caller. */
  private handoverDue = 0;
  /** Whether a caller waits for a prediction not yet handed over. */
  private awaited = false;
  private writer: WriterHost | undefined;
  /** Predictions accepted and neither written nor dropped: what the queue limit bounds. */
  private queued = 0;
  /** Predictions in the spool, on disk: safe from a crash, outside the queue limit. */
  private spooled = 0;
  private counts = {
    accepted: 0,
    written: 0,
    dropped: 0,
    refused: 0,
    writeFailures: 0,
    batches: 0,
    purged: 0,
  };
  /** Callers of `recordDurably` waiting for their prediction's outcome. */
  private readonly settlements = new Settlements();
  /** Flush and stop requests waiting for the writer's answer, by id. */
  private readonly answers = new Map<number, () => void>();
  private nextRequest = 0;
  /** Ledger events of written batches being sealed. */
  private readonly sealing = new Set<Promise<void>>();
  private retentionTimer: NodeJS.Timeout | undefined;
  /** Per repeated warning: when it was last logged, and its count then. */
  private readonly lastReported = { drops: { at: 0, count: 0 }, failures: { at: 0, count: 0 } };
  private stopped = false;
  private reportedStoppedDrop = false;

  constructor(
    private readonly repository: PredictionLogRepository,
    private readonly endpoints: EndpointsService,
    private readonly ledger: LedgerService,
    private readonly database: Database,
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
    this.writer = this.startWriter();
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
   * Whether a prediction recorded now would be kept: the log is on, the service is not
   * shutting down and the queue has room. What an endpoint that requires the log asks before
   * it answers.
   */
  accepting(): boolean {
    return this.options.enabled && !this.stopped && this.queued < this.options.queueLimit;
  }

  /** A request refused because its endpoint requires the log and the log could not take it. */
  countRefused(): void {
    this.counts.refused++;
  }

  /** Queues a prediction; never throws, never waits. False: it was not kept (dropped, counted). */
  record(prediction: PredictionRecord): boolean {
    return this.accept(prediction) === null;
  }

  /**
   * Queues a prediction as `record` does, and tells when it is safe: `written` once committed
   * to the log, `spooled` once on disk in the spool (written when the database is back, even
   * after a restart), `dropped` with the reason when it will not be kept — refused at once
   * (log off, queue full, shutting down), or later (PostgreSQL refused a value, the writer's
   * thread failed, still unwritten at shutdown). Resolves exactly once and never rejects;
   * every caller still waiting when the log stops or loses its writer is told `dropped`. While
   * the database is away and there is no spool, the answer waits with the prediction.
   */
  recordDurably(prediction: PredictionRecord): Promise<LogOutcome> {
    const refused = this.accept(prediction, DURABLE_HANDOVER_MS);
    if (refused) return Promise.resolve(refused);
    this.awaited = true;
    return this.settlements.outcomeOfLast(prediction.endpoint);
  }

  /**
   * Queues a prediction, to be handed over within `handoverMs`; null when accepted, else why it
   * was dropped (counted).
   */
  private accept(prediction: PredictionRecord, handoverMs = HANDOVER_MS): LogOutcome | null {
    if (!this.options.enabled) return DISABLED;
    if (this.stopped) {
      // A request answered while the service shuts down: its prediction is not the queue's.
      this.counts.dropped++;
      if (!this.reportedStoppedDrop) {
        this.reportedStoppedDrop = true;
        PredictionLog.logger.warn(
          'shutting down: predictions of requests still being answered are not recorded',
        );
      }
      return SHUTTING_DOWN;
    }
    if (this.queued >= this.options.queueLimit) {
      this.counts.dropped++;
      this.reportDrops();
      return QUEUE_FULL;
    }
    try {
      this.packer.add(prediction);
    } catch (error) {
      this.counts.dropped++;
      const message = `a prediction could not be recorded: ${messageOf(error)}`;
      PredictionLog.logger.error(message);
      return { kind: 'dropped', reason: 'invalid', message };
    }
    this.settlements.accept(prediction.endpoint);
    this.queued++;
    this.counts.accepted++;
    if (this.packer.count >= HANDOVER_ROWS) this.handOver();
    else this.handOverWithin(handoverMs);
    return null;
  }

  stats(): PredictionLogStats {
    return {
      enabled: this.options.enabled,
      queued: this.queued,
      spooled: this.spooled,
      ...this.counts,
    };
  }

  /** Writes everything queued now; resolves when done (or when a write failed). */
  async flush(): Promise<void> {
    if (!this.options.enabled) return;
    this.handOver();
    await this.ask('flush');
    await this.sealed();
  }

  /**
   * Deletes predictions older than the retention period, endpoint by endpoint and in chunks,
   * each chunk with its ledger event. Returns how many were deleted.
   */
  async purgeExpired(now: Date = new Date()): Promise<number> {
    if (this.options.retentionDays <= 0) return 0;
    const cutoff = new Date(now.getTime() - this.options.retentionDays * DAY_MS);
    let total = 0;
    for (const endpoint of await this.endpoints.names()) {
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

  /** The version that answered a request, and its row count: what feedback is checked against. */
  answered(
    endpoint: string,
    requestId: string,
  ): Promise<{ modelVersion: number; rows: string | null } | null> {
    return this.repository.answered(endpoint, requestId);
  }

  /** The live arm's recent predictions, which drift is measured on. */
  servedLive(
    endpoint: string,
    version: number,
    from: Date,
    limit: number,
  ): Promise<LoggedExchange[]> {
    return this.repository.servedLive(endpoint, version, from, limit);
  }

  /** One output's logged values, from which a rollout computes its score PSI. */
  outputValues(scope: OutputScope, since: Date, limit: number): Promise<LoggedOutput[]> {
    return this.repository.outputValues(scope, since, limit);
  }

  /**
   * Writes what is queued, spools what the database will not take, and stops the writer. At
   * this point of the shutdown the HTTP server has closed and every request it was answering
   * is answered (and recorded here); the ledger and the database close after this module.
   */
  async onApplicationShutdown(): Promise<void> {
    clearTimeout(this.retentionTimer);
    clearInterval(this.retentionTimer);
    if (!this.options.enabled || this.stopped) return;
    this.handOver();
    this.stopped = true;
    await this.ask('stop');
    await this.sealed();
    await this.writer?.terminate();
    this.writer = undefined;
    if (this.queued > 0) {
      this.counts.dropped += this.queued;
      PredictionLog.logger.error(
        `shutdown: ${this.queued} predictions could not be written and are lost`,
      );
      this.queued = 0;
    }
    // The writer has answered all it will: whoever still waits is told now.
    this.settlements.settleAll(SHUTTING_DOWN);
  }

  private startWriter(): WriterHost {
    const { batchRows, flushIntervalMs, spoolDir, spoolBytes, writeTimeoutMs } = this.options;
    const writer: WriterHost = startWriter(
      this.database.url,
      {
        batchRows,
        flushIntervalMs,
        writeTimeoutMs,
        spool: { dir: spoolDir, limitBytes: spoolBytes },
      },
      {
        report: (report) => {
          // A writer replaced (lost) may still have sent reports: its predictions were settled
          // as lost with it, and its answers to flush and stop were given.
          if (this.writer === writer || report.kind === 'read') this.onReport(report);
        },
        lost: (error) => {
          this.onWriterLost(writer, error);
        },
      },
    );
    return writer;
  }

  /** Makes sure a hand-over happens within `ms` from now. */
  private handOverWithin(ms: number): void {
    const due = performance.now() + ms;
    if (this.handoverTimer && this.handoverDue <= due) return;
    clearTimeout(this.handoverTimer);
    this.handoverDue = due;
    this.handoverTimer = setTimeout(() => {
      this.handOver();
    }, ms);
  }

  /** Hands what was recorded since the last hand-over to the writer. */
  private handOver(): void {
    clearTimeout(this.handoverTimer);
    this.handoverTimer = undefined;
    const urgent = this.awaited;
    this.awaited = false;
    if (this.packer.count === 0) return;
    const packed = this.packer.take();
    if (this.stopped) {
      this.queued -= packed.count;
      this.counts.dropped += packed.count;
      return;
    }
    this.writer ??= this.startWriter();
    this.writer.send({ kind: 'records', packed, urgent });
    this.settlements.handedOver();
  }

  /** Sends a flush or a stop and waits for its answer. */
  private ask(kind: 'flush' | 'stop'): Promise<void> {
    const writer = this.writer;
    if (!writer) return Promise.resolve();
    const id = this.nextRequest++;
    return new Promise((resolve) => {
      this.answers.set(id, resolve);
      writer.send({ kind, id });
    });
  }

  private async sealed(): Promise<void> {
    while (this.sealing.size > 0) await Promise.all([...this.sealing]);
  }

  private onReport(report: WriterReport): void {
    switch (report.kind) {
      case 'written': {
        if (report.spooled) {
          this.spooled -= report.count;
          if (this.spooled === 0)
            PredictionLog.logger.log('the spool is written out: the log is up to date again');
        } else {
          this.queued -= report.count;
          this.settle(report.endpoint, report.count, WRITTEN);
        }
        this.counts.written += report.count;
        this.counts.batches++;
        if (!report.event) return;
        // Committed with the batch already; sealing it into the chain is the sequencer's
        // (whose sweep would also get to it, a second later).
        const sealing = this.ledger
          .sealQueued([report.event])
          .catch((error: unknown) => {
            PredictionLog.logger.warn(
              `sealing the batch of ${report.endpoint} into the ledger failed (its sweep retries): ${messageOf(error)}`,
            );
          })
          .finally(() => {
            this.sealing.delete(sealing);
          });
        this.sealing.add(sealing);
        return;
      }
      case 'failed': {
        this.counts.writeFailures++;
        // Through an outage the writer tries at every flush: one line every 10 s says so.
        const since = this.reportDue('failures', this.counts.writeFailures);
        if (since === undefined) return;
        const more = since - 1;
        PredictionLog.logger.warn(
          `writing ${report.count} predictions of ${report.endpoint} failed: ${report.message}${more > 0 ? ` (and ${more} other writes since the last report)` : ''}`,
        );
        return;
      }
      case 'spooled':
        this.queued -= report.count;
        for (const e of report.endpoints) this.settle(e.endpoint, e.count, SPOOLED);
        if (this.spooled === 0)
          PredictionLog.logger.warn(
            'the database cannot take the log: predictions are spooled to disk until it can',
          );
        this.spooled += report.count;
        return;
      case 'spool':
        // None (opened fresh, or just lost to another process) or what is on disk.
        this.spooled = report.count;
        if (report.error) {
          PredictionLog.logger.error(
            `no prediction spool (while the database is away, predictions wait in memory only): ${report.error}`,
          );
          return;
        }
        if (report.count === 0) return;
        PredictionLog.logger.log(
          `the spool holds ${report.count} predictions (${report.batches} batches) from an earlier run: writing them first`,
        );
        return;
      case 'dropped':
        if (report.spooled) this.spooled -= report.count;
        else this.queued -= report.count;
        this.counts.dropped += report.count;
        PredictionLog.logger.error(
          `${report.count} predictions were not written: ${report.message}`,
        );
        if (report.spooled) return;
        if (report.endpoints) {
          const outcome: LogOutcome = {
            kind: 'dropped',
            reason: DROP_REASONS[report.reason],
            message: report.message,
          };
          for (const e of report.endpoints) this.settle(e.endpoint, e.count, outcome);
        } else if (this.writer) {
          // Whose predictions these were is unknown, so no later count could be trusted.
          const writer = this.writer;
          this.onWriterLost(writer, new Error(`a hand-over could not be read: ${report.message}`));
          void writer.terminate();
        }
        return;
      case 'read':
        this.packer.give(report.numbers);
        return;
      case 'flushed':
      case 'stopped':
        this.answers.get(report.id)?.();
        this.answers.delete(report.id);
        return;
    }
  }

  /** The writer's thread failed: what it held is lost; the next hand-over starts another. */
  private onWriterLost(writer: WriterHost, error: Error): void {
    if (this.writer !== writer) return;
    this.writer = undefined;
    const lost = this.queued - this.packer.count;
    this.queued -= lost;
    this.counts.dropped += lost;
    PredictionLog.logger.error(
      `the prediction log's writer failed, ${lost} predictions are lost: ${error.message}`,
    );
    this.settlements.settleHandedOver({
      kind: 'dropped',
      reason: 'writer-lost',
      message: `the log's writer failed: ${error.message}`,
    });
    for (const answer of this.answers.values()) answer();
    this.answers.clear();
  }

  /** Tells the callers waiting for these predictions; the writer names only ones it holds. */
  private settle(endpoint: string, count: number, outcome: LogOutcome): void {
    const beyond = this.settlements.settle(endpoint, count, outcome);
    if (beyond > 0)
      PredictionLog.logger.error(
        `the log's writer settled ${beyond} more predictions of ${endpoint} than it was given`,
      );
  }

  /**
   * How much `count` rose since the warning of this kind was last logged, if it may be logged
   * now (every DROP_REPORT_INTERVAL_MS at most); undefined if not yet.
   */
  private reportDue(kind: 'drops' | 'failures', count: number): number | undefined {
    const now = Date.now();
    const last = this.lastReported[kind];
    if (now - last.at < DROP_REPORT_INTERVAL_MS) return undefined;
    this.lastReported[kind] = { at: now, count };
    return count - last.count;
  }

  private reportDrops(): void {
    const since = this.reportDue('drops', this.counts.dropped);
    if (since === undefined) return;
    PredictionLog.logger.warn(
      `prediction log queue full (limit ${this.options.queueLimit}): ${since} predictions dropped since the last report, ${this.counts.dropped} in all`,
    );
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
