import { writeErrorMessage, writeFaultOf } from '../database/write-fault.js';
import type { QueuedEvent } from '../ledger/ledger-sequencer.service.js';
import type { StoredBatch } from './batch-store.js';
import { splitBatch } from './batch-split.js';
import { BatchBuilder, type PreparedBatch } from './prediction-digest.js';
import type { PredictionRecord } from './prediction.js';
import { PredictionSpool } from './prediction-spool.js';
import { unpackRecords, type PackedRecords } from './record-codec.js';
import { RowBuffers } from './row-buffers.js';

export interface LogWriterOptions {
  readonly batchRows: number;
  readonly flushIntervalMs: number;
  /** How long a write waits for the database before it fails (and its batch is spooled). */
  readonly writeTimeoutMs?: number;
  /** Where batches wait while the database cannot take them; none: they wait in memory. */
  readonly spool?: { readonly dir: string; readonly limitBytes: number };
}

/** How many predictions of one endpoint a report settles. */
export interface EndpointCount {
  readonly endpoint: string;
  readonly count: number;
}

/**
 * Why the writer gave predictions up: `refused`, PostgreSQL refused a value; `invalid`, a
 * prediction could not be serialized; `unreadable`, a hand-over could not be read (which of
 * its predictions were whose is unknown); `stopped`, they arrived after the writer stopped;
 * `shutdown`, still unwritten when it stopped.
 */
export type WriterDropReason = 'refused' | 'invalid' | 'unreadable' | 'stopped' | 'shutdown';

/** Predictions PostgreSQL refused in one pass, by endpoint, cause and origin. */
type Refusals = Map<
  string,
  { readonly endpoint: string; count: number; readonly cause: string; readonly spooled: boolean }
>;

/** What the service asks of its writer. */
export type WriterCommand =
  /**
   * Predictions to log. `urgent`: a caller waits for one of them, so the open batches are
   * closed and written as soon as the writer is free, not at the flush interval.
   */
  | { readonly kind: 'records'; readonly packed: PackedRecords; readonly urgent?: boolean }
  /** Write everything received so far; answered by `flushed` with the same id. */
  | { readonly kind: 'flush'; readonly id: number }
  /** Write everything received so far, give up the rest, close; answered by `stopped`. */
  | { readonly kind: 'stop'; readonly id: number };

/**
 * What the writer tells the service, in the order it happened. Every prediction handed over
 * is settled by exactly one report that names its endpoint — `written` (from memory),
 * `spooled`, or `dropped` (from memory) — and each endpoint's predictions are settled in the
 * order they were handed over, so that the service can tell the caller of each one its
 * outcome by counting. Reports about the spool's own batches (`spooled: true`) settle
 * nothing: their predictions settled when they were spooled.
 */
export type WriterReport =
  /**
   * A batch committed, its ledger event queued with it: the service has the event sealed. No
   * event when a batch tried again was found already written (its commit had got through,
   * its answer had not).
   */
  | {
      readonly kind: 'written';
      readonly endpoint: string;
      readonly count: number;
      readonly event: QueuedEvent | null;
      /** It came from the spool (else from memory). */
      readonly spooled: boolean;
    }
  /** Batches moved from memory into the spool, on disk, to be written once the database is back. */
  | {
      readonly kind: 'spooled';
      readonly count: number;
      readonly batches: number;
      readonly endpoints: readonly EndpointCount[];
    }
  /** What the spool holds as the writer starts (left by an earlier run), or why there is none. */
  | {
      readonly kind: 'spool';
      readonly count: number;
      readonly batches: number;
      readonly error?: string;
    }
  /** A batch's write failed; it is kept, sealed as it is, for the next attempt. */
  | {
      readonly kind: 'failed';
      readonly endpoint: string;
      readonly count: number;
      readonly message: string;
    }
  /** Predictions given up: unreadable, or still unwritten when the writer stopped. */
  | {
      readonly kind: 'dropped';
      readonly count: number;
      readonly message: string;
      readonly reason: WriterDropReason;
      /** Whose they were; null when a hand-over could not be read (`unreadable`). */
      readonly endpoints: readonly EndpointCount[] | null;
      /** They were in the spool (else in memory). */
      readonly spooled?: boolean;
    }
  /** A hand-over's buffer, read: back to the service's packer (it moves, as it came). */
  | { readonly kind: 'read'; readonly numbers: Float64Array }
  | { readonly kind: 'flushed'; readonly id: number }
  | { readonly kind: 'stopped'; readonly id: number };

/** Where batches go: `BatchStore`, or a stand-in in unit tests. */
export interface BatchSink {
  /**
   * Writes the batch with its seal. `retried`: it may have been committed by an earlier
   * attempt whose answer was lost; then it is not written again, and the answer is null.
   */
  write(batch: PreparedBatch, retried: boolean): Promise<StoredBatch | null>;
  close(): Promise<void>;
}

/**
 * The prediction log's writer: everything the log does per prediction once the service has
 * handed it over. Each prediction is serialized into its endpoint's open batch (canonical line
 * into the running digest, COPY row into reused buffers); a batch is closed when full or at
 * the flush interval; closed batches are written one at a time, each with its seal
 * (batch-store.ts). It runs on a thread of its own (log-writer.worker.ts), so none of this
 * takes the event loop that answers requests; from TypeScript sources (the tests) it runs in
 * the calling thread behind the same messages (writer-host.ts).
 *
 * A failed batch is kept and retried as it is, and holds up the batches behind it, unless
 * PostgreSQL refused one of its values (write-fault.ts: a data exception or a constraint).
 * Every value is escaped or made well-formed and the tensors go into `json` columns, which
 * take any JSON text, so no prediction should be refused; if one is anyway (a constraint or a
 * trigger added to the table), written again it would be refused for ever and the log would
 * stop. The batch is then written as two halves, each sealed on its own, and so on down to
 * the refused prediction, which is given up (`dropped`, with PostgreSQL's reason).
 *
 * With a spool (prediction-spool.ts), a failed batch and every batch closed behind it go to
 * disk instead of waiting in memory: the spool holds the oldest batches and memory the newest,
 * so that written in that order they reach the database in the order they were closed. Each
 * flush tries the spool's oldest batch again; once the database takes it, the rest follow. A
 * full spool leaves batches in memory, where the service's queue limit bounds them.
 */
export class LogWriter {
  /** Per endpoint, the batch predictions are joining. */
  private readonly open = new Map<string, BatchBuilder>();
  /** Buffers of written batches, for the next ones to write their rows into (16 MB at most). */
  private readonly buffers = new RowBuffers(128);
  /** Closed batches, oldest first, waiting to be written. */
  private closed: PreparedBatch[] = [];
  /** The spooled batch being written, as it is left (halves, after a refused value). */
  private replaying: PreparedBatch[] = [];
  /** Batches whose write failed once: their commit may have got through. */
  private readonly attempted = new WeakSet<PreparedBatch>();
  private writing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  /**
   * A caller waits for a prediction in an open batch: the batches are closed at the next
   * chance to write (at once, or when the write under way ends), so that a caller waits for
   * one write at most while those arriving meanwhile gather into the next batch.
   */
  private urgent = false;
  private stopped = false;
  /** The stop under way or done: what arrives after it is given up once it has settled all. */
  private stopping: Promise<void> | undefined;
  /**
   * Refused predictions not yet reported: one report per endpoint and cause, not one per
   * prediction, sent before any later report that settles predictions so the order holds.
   */
  private readonly refusals: Refusals = new Map();
  /** Per endpoint, its newest batch not yet settled (written, spooled or given up). */
  private readonly tail = new Map<string, PreparedBatch>();
  /**
   * Predictions that could not be serialized, given up after the batch they followed: reported
   * when it settles, so that each endpoint's predictions are settled in the order received.
   */
  private readonly trailing = new WeakMap<PreparedBatch, number>();

  constructor(
    private readonly sink: BatchSink,
    private readonly options: LogWriterOptions,
    private readonly out: (report: WriterReport) => void,
    private spool?: PredictionSpool,
  ) {
    // Always, so that the service's count of spooled predictions starts from what is on disk.
    if (spool) this.out({ kind: 'spool', count: spool.rows, batches: spool.batches });
    this.timer = setInterval(() => {
      this.keepSpool();
      this.closeAll();
      void this.write();
    }, options.flushIntervalMs);
    this.timer.unref();
  }

  handle(command: WriterCommand): void {
    switch (command.kind) {
      case 'records':
        this.add(command.packed);
        if (command.urgent && !this.stopping) {
          this.urgent = true;
          void this.write();
        }
        return;
      case 'flush':
        void this.flush().then(() => {
          this.report({ kind: 'flushed', id: command.id });
        });
        return;
      case 'stop':
        void this.stop().then(() => {
          this.report({ kind: 'stopped', id: command.id });
        });
        return;
    }
  }

  /** Sends a report; one that settles predictions goes after the refusals found before it. */
  private report(report: WriterReport): void {
    if (report.kind === 'written' || report.kind === 'spooled' || report.kind === 'dropped')
      this.reportRefusals();
    this.out(report);
  }

  private reportRefusals(): void {
    for (const r of this.refusals.values())
      this.out({
        kind: 'dropped',
        count: r.count,
        message: `PostgreSQL refused ${r.count === 1 ? 'a prediction' : `${r.count} predictions`} of ${r.endpoint}: ${r.cause}`,
        reason: 'refused',
        endpoints: [{ endpoint: r.endpoint, count: r.count }],
        spooled: r.spooled,
      });
    this.refusals.clear();
  }

  private add(packed: PackedRecords): void {
    let records;
    try {
      records = unpackRecords(packed);
    } catch (error) {
      this.report({
        kind: 'dropped',
        count: packed.count,
        message: messageOf(error),
        reason: 'unreadable',
        endpoints: null,
      });
      return;
    } finally {
      this.report({ kind: 'read', numbers: packed.numbers });
    }
    if (this.stopping) {
      const endpoints = countByEndpoint(records);
      // After what the stop settles: these were received after all of it.
      void this.stopping.then(() => {
        this.report({
          kind: 'dropped',
          count: packed.count,
          message: 'the writer has stopped',
          reason: 'stopped',
          endpoints,
        });
      });
      return;
    }
    for (const p of records) {
      let batch = this.open.get(p.endpoint);
      if (!batch) {
        batch = new BatchBuilder(p.endpoint, this.buffers);
        this.open.set(p.endpoint, batch);
      }
      try {
        batch.add(p);
      } catch (error) {
        this.unserializable(batch, error);
        continue;
      }
      if (batch.count >= this.options.batchRows) {
        this.close(batch);
        void this.write();
      }
    }
  }

  /** Writes everything received so far; resolves when done, or when a write failed. */
  private async flush(): Promise<void> {
    this.closeAll();
    while (this.writing) await this.writing;
    if (this.closed.length > 0 || this.spooling) await this.write();
  }

  /**
   * A prediction that cannot be serialized is given up in its place: after the predictions of
   * its endpoint received before it, which its batch (closed here) holds.
   */
  private unserializable(batch: BatchBuilder, error: unknown): void {
    this.close(batch);
    const message = `a prediction could not be serialized: ${messageOf(error)}`;
    const before = this.tail.get(batch.endpoint);
    if (before) {
      this.trailing.set(before, (this.trailing.get(before) ?? 0) + 1);
      return;
    }
    this.report({
      kind: 'dropped',
      count: 1,
      message,
      reason: 'invalid',
      endpoints: [{ endpoint: batch.endpoint, count: 1 }],
    });
  }

  /**
   * A batch from memory has settled: it is no longer its endpoint's newest unsettled, and the
   * predictions given up behind it are reported now.
   */
  private settled(batch: PreparedBatch): void {
    if (this.tail.get(batch.endpoint) === batch) this.tail.delete(batch.endpoint);
    const after = this.trailing.get(batch);
    if (after === undefined) return;
    this.trailing.delete(batch);
    this.report({
      kind: 'dropped',
      count: after,
      message: `${after === 1 ? 'a prediction' : `${after} predictions`} of ${batch.endpoint} could not be serialized`,
      reason: 'invalid',
      endpoints: [{ endpoint: batch.endpoint, count: after }],
    });
  }

  /** A batch from memory split in two: the second half is where the first one ended. */
  private replaced(batch: PreparedBatch, halves: readonly PreparedBatch[]): void {
    const last = halves[halves.length - 1];
    if (!last) return;
    if (this.tail.get(batch.endpoint) === batch) this.tail.set(batch.endpoint, last);
    const after = this.trailing.get(batch);
    if (after === undefined) return;
    this.trailing.delete(batch);
    this.trailing.set(last, after);
  }

  private stop(): Promise<void> {
    this.stopping ??= this.stopNow();
    return this.stopping;
  }

  private async stopNow(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.flush();
    // What the database would not take waits on disk for the next start.
    this.spoolClosed();
    const lost = new Map<string, number>();
    for (const batch of this.closed) {
      const count = batch.count + (this.trailing.get(batch) ?? 0);
      lost.set(batch.endpoint, (lost.get(batch.endpoint) ?? 0) + count);
      this.trailing.delete(batch);
    }
    this.closed = [];
    this.tail.clear();
    const count = [...lost.values()].reduce((n, c) => n + c, 0);
    if (count > 0)
      this.report({
        kind: 'dropped',
        count,
        message: 'still unwritten at shutdown',
        reason: 'shutdown',
        endpoints: [...lost].map(([endpoint, n]) => ({ endpoint, count: n })),
      });
    this.spool?.close();
    await this.sink.close().catch(() => undefined);
  }

  /**
   * Renews the lease on the spool's folder. Lost (this process stalled past the lease and
   * another took the folder over, with what it holds), the spool is no longer this writer's:
   * failed batches wait in memory from then on.
   */
  private keepSpool(): void {
    try {
      this.spool?.heartbeat();
    } catch (error) {
      this.spool = undefined;
      this.replaying = [];
      this.report({ kind: 'spool', count: 0, batches: 0, error: messageOf(error) });
    }
  }

  /** Whether batches are going to the spool: it holds some not yet written. */
  private get spooling(): boolean {
    return this.replaying.length > 0 || (this.spool !== undefined && !this.spool.empty);
  }

  private close(batch: BatchBuilder): void {
    this.open.delete(batch.endpoint);
    if (batch.count === 0) return;
    const sealed = batch.seal();
    this.closed.push(sealed);
    this.tail.set(sealed.endpoint, sealed);
    // Behind spooled batches, a batch goes to disk at once rather than wait for the database.
    if (this.spooling) this.spoolClosed();
  }

  /** Moves closed batches, oldest first, into the spool while it has room. */
  private spoolClosed(): void {
    const spool = this.spool;
    if (!spool) return;
    let count = 0;
    let batches = 0;
    let endpoints = new Map<string, number>();
    const reportSpooled = (): void => {
      if (count > 0)
        this.report({
          kind: 'spooled',
          count,
          batches,
          endpoints: [...endpoints].map(([endpoint, n]) => ({ endpoint, count: n })),
        });
      count = 0;
      batches = 0;
      endpoints = new Map();
    };
    for (let batch = this.closed[0]; batch; batch = this.closed[0]) {
      try {
        if (!spool.append(batch)) break;
      } catch (error) {
        this.report({
          kind: 'failed',
          endpoint: batch.endpoint,
          count: batch.count,
          message: `the spool could not take the batch: ${messageOf(error)}`,
        });
        break;
      }
      this.closed.shift();
      this.buffers.give(batch.chunks);
      count += batch.count;
      batches++;
      endpoints.set(batch.endpoint, (endpoints.get(batch.endpoint) ?? 0) + batch.count);
      // Predictions given up behind this batch are settled after it, before any that follow.
      if (this.trailing.has(batch)) reportSpooled();
      this.settled(batch);
    }
    reportSpooled();
  }

  private closeAll(): void {
    this.urgent = false;
    for (const batch of [...this.open.values()]) this.close(batch);
  }

  private closeUrgent(): void {
    if (this.urgent) this.closeAll();
  }

  /** Starts writing unless it runs; it stops at the first failed write (the timer retries). */
  private write(): Promise<void> {
    if (this.writing) return this.writing;
    this.closeUrgent();
    if (this.closed.length === 0 && !this.spooling) return Promise.resolve();
    this.writing = this.writeClosed().finally(() => {
      this.writing = undefined;
    });
    return this.writing;
  }

  private async writeClosed(): Promise<void> {
    try {
      await this.writeBatches();
    } finally {
      this.reportRefusals();
    }
  }

  private async writeBatches(): Promise<void> {
    for (;;) {
      if (this.spooling) {
        if (!(await this.replayOne())) break;
        continue;
      }
      if (this.closed.length === 0) this.closeUrgent();
      const batch = this.closed.shift();
      if (!batch) return;
      const left = await this.writeSplitting([batch], false);
      if (left.length > 0) {
        this.closed.unshift(...left);
        break;
      }
    }
    // A write failed: what waits in memory goes to disk.
    this.spoolClosed();
  }

  /** Writes the spool's oldest batch; false when the database did not take it. */
  private async replayOne(): Promise<boolean> {
    const spool = this.spool;
    if (!spool) return true;
    if (this.replaying.length === 0) {
      const read = spool.peek();
      if (!read) return true;
      if (!read.ok) {
        spool.ack();
        this.report({
          kind: 'dropped',
          count: read.count,
          message: `a spooled batch of ${read.endpoint} cannot be read back: ${read.reason}`,
          reason: 'unreadable',
          endpoints: [{ endpoint: read.endpoint, count: read.count }],
          spooled: true,
        });
        return true;
      }
      this.replaying = [read.batch];
    }
    this.replaying = await this.writeSplitting(this.replaying, true);
    if (this.replaying.length > 0) return false;
    spool.ack();
    return true;
  }

  /**
   * Writes the batches in order, splitting one around a refused value; returns what is left
   * when a write fails (nothing when all went through).
   */
  private async writeSplitting(
    batches: readonly PreparedBatch[],
    spooled: boolean,
  ): Promise<PreparedBatch[]> {
    const todo = [...batches];
    for (let batch = todo[0]; batch; batch = todo[0]) {
      try {
        const stored = await this.sink.write(batch, spooled || this.attempted.has(batch));
        todo.shift();
        this.buffers.give(batch.chunks);
        this.report({
          kind: 'written',
          endpoint: batch.endpoint,
          count: batch.count,
          event: stored?.event ?? null,
          spooled,
        });
        if (!spooled) this.settled(batch);
      } catch (error) {
        if (writeFaultOf(error) === 'row') {
          todo.shift();
          const halves = this.refused(batch, error, spooled);
          if (spooled) {
            // Settled when spooled: nothing to track.
          } else if (halves.length > 0) this.replaced(batch, halves);
          else this.settled(batch);
          todo.unshift(...halves);
          continue;
        }
        this.attempted.add(batch);
        this.report({
          kind: 'failed',
          endpoint: batch.endpoint,
          count: batch.count,
          message: messageOf(error),
        });
        // Sealed already: tried again as it is, digest and all.
        return todo;
      }
    }
    return [];
  }

  /** A batch with a refused value: its halves, or nothing when it is single (given up). */
  private refused(batch: PreparedBatch, error: unknown, spooled: boolean): PreparedBatch[] {
    if (batch.count > 1) {
      try {
        const halves = splitBatch(batch, this.buffers);
        this.buffers.give(batch.chunks);
        return halves;
      } catch (split) {
        error = split;
      }
    }
    this.buffers.give(batch.chunks);
    const cause = writeErrorMessage(error);
    const key = `${batch.endpoint}\u0000${cause}\u0000${spooled}`;
    const r = this.refusals.get(key) ?? { endpoint: batch.endpoint, count: 0, cause, spooled };
    r.count += batch.count;
    this.refusals.set(key, r);
    return [];
  }
}

/**
 * A writer with its spool opened. A spool that cannot be opened (its folder not writable, or
 * held by another live process) is reported, and the writer keeps failed batches in memory.
 */
export function startLogWriter(
  sink: BatchSink,
  options: LogWriterOptions,
  report: (report: WriterReport) => void,
): LogWriter {
  let spool: PredictionSpool | undefined;
  if (options.spool && options.spool.limitBytes > 0) {
    try {
      spool = PredictionSpool.claim(options.spool.dir, options.spool.limitBytes);
    } catch (error) {
      report({ kind: 'spool', count: 0, batches: 0, error: messageOf(error) });
    }
  }
  return new LogWriter(sink, options, report, spool);
}

/** Per endpoint, how many of the predictions are its (in the order endpoints first appear). */
function countByEndpoint(records: readonly PredictionRecord[]): EndpointCount[] {
  const counts = new Map<string, number>();
  for (const p of records) counts.set(p.endpoint, (counts.get(p.endpoint) ?? 0) + 1);
  return [...counts].map(([endpoint, count]) => ({ endpoint, count }));
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
