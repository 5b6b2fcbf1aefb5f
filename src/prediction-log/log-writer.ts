import { writeErrorMessage, writeFaultOf } from '../database/write-fault.js';
import type { QueuedEvent } from '../ledger/ledger-sequencer.service.js';
import type { StoredBatch } from './batch-store.js';
import { splitBatch } from './batch-split.js';
import { BatchBuilder, type PreparedBatch } from './prediction-digest.js';
import { unpackRecords, type PackedRecords } from './record-codec.js';
import { RowBuffers } from './row-buffers.js';

export interface LogWriterOptions {
  readonly batchRows: number;
  readonly flushIntervalMs: number;
}

/** What the service asks of its writer. */
export type WriterCommand =
  | { readonly kind: 'records'; readonly packed: PackedRecords }
  /** Write everything received so far; answered by `flushed` with the same id. */
  | { readonly kind: 'flush'; readonly id: number }
  /** Write everything received so far, give up the rest, close; answered by `stopped`. */
  | { readonly kind: 'stop'; readonly id: number };

/** What the writer tells the service, in the order it happened. */
export type WriterReport =
  /** A batch committed, its ledger event queued with it: the service has the event sealed. */
  | {
      readonly kind: 'written';
      readonly endpoint: string;
      readonly count: number;
      readonly event: QueuedEvent;
    }
  /** A batch's write failed; it is kept, sealed as it is, for the next attempt. */
  | {
      readonly kind: 'failed';
      readonly endpoint: string;
      readonly count: number;
      readonly message: string;
    }
  /** Predictions given up: unreadable, or still unwritten when the writer stopped. */
  | { readonly kind: 'dropped'; readonly count: number; readonly message: string }
  /** A hand-over's buffer, read: back to the service's packer (it moves, as it came). */
  | { readonly kind: 'read'; readonly numbers: Float64Array }
  | { readonly kind: 'flushed'; readonly id: number }
  | { readonly kind: 'stopped'; readonly id: number };

/** Where batches go: `BatchStore`, or a stand-in in unit tests. */
export interface BatchSink {
  write(batch: PreparedBatch): Promise<StoredBatch>;
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
 */
export class LogWriter {
  /** Per endpoint, the batch predictions are joining. */
  private readonly open = new Map<string, BatchBuilder>();
  /** Buffers of written batches, for the next ones to write their rows into (16 MB at most). */
  private readonly buffers = new RowBuffers(128);
  /** Closed batches, oldest first, waiting to be written. */
  private closed: PreparedBatch[] = [];
  private writing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly sink: BatchSink,
    private readonly options: LogWriterOptions,
    private readonly report: (report: WriterReport) => void,
  ) {
    this.timer = setInterval(() => {
      this.closeAll();
      void this.write();
    }, options.flushIntervalMs);
    this.timer.unref();
  }

  handle(command: WriterCommand): void {
    switch (command.kind) {
      case 'records':
        this.add(command.packed);
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

  private add(packed: PackedRecords): void {
    if (this.stopped) {
      this.report({ kind: 'read', numbers: packed.numbers });
      this.report({ kind: 'dropped', count: packed.count, message: 'the writer has stopped' });
      return;
    }
    let records;
    try {
      records = unpackRecords(packed);
    } catch (error) {
      this.report({ kind: 'dropped', count: packed.count, message: messageOf(error) });
      return;
    } finally {
      this.report({ kind: 'read', numbers: packed.numbers });
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
        this.report({
          kind: 'dropped',
          count: 1,
          message: `a prediction could not be serialized: ${messageOf(error)}`,
        });
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
    if (this.closed.length > 0) await this.write();
  }

  private async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.flush();
    const lost = this.closed.reduce((n, b) => n + b.count, 0);
    this.closed = [];
    if (lost > 0)
      this.report({ kind: 'dropped', count: lost, message: 'still unwritten at shutdown' });
    await this.sink.close().catch(() => undefined);
  }

  private close(batch: BatchBuilder): void {
    this.open.delete(batch.endpoint);
    if (batch.count > 0) this.closed.push(batch.seal());
  }

  private closeAll(): void {
    for (const batch of [...this.open.values()]) this.close(batch);
  }

  /** Starts writing unless it runs; it stops at the first failed write (the timer retries). */
  private write(): Promise<void> {
    if (this.writing) return this.writing;
    if (this.closed.length === 0) return Promise.resolve();
    this.writing = this.writeClosed().finally(() => {
      this.writing = undefined;
    });
    return this.writing;
  }

  private async writeClosed(): Promise<void> {
    const refused = new Map<string, { endpoint: string; count: number; cause: string }>();
    try {
      await this.writeBatches(refused);
    } finally {
      // One report per cause, not one per refused prediction.
      for (const r of refused.values())
        this.report({
          kind: 'dropped',
          count: r.count,
          message: `PostgreSQL refused ${r.count === 1 ? 'a prediction' : `${r.count} predictions`} of ${r.endpoint}: ${r.cause}`,
        });
    }
  }

  private async writeBatches(
    refused: Map<string, { endpoint: string; count: number; cause: string }>,
  ): Promise<void> {
    for (let batch = this.closed.shift(); batch; batch = this.closed.shift()) {
      try {
        const stored = await this.sink.write(batch);
        this.buffers.give(batch.chunks);
        this.report({
          kind: 'written',
          endpoint: batch.endpoint,
          count: batch.count,
          event: stored.event,
        });
      } catch (error) {
        if (writeFaultOf(error) === 'row') {
          this.refused(batch, error, refused);
          continue;
        }
        this.report({
          kind: 'failed',
          endpoint: batch.endpoint,
          count: batch.count,
          message: messageOf(error),
        });
        // Sealed already: retried as it is, digest and all.
        this.closed.unshift(batch);
        return;
      }
    }
  }

  /** A batch with a refused value: its halves take its place, or it is given up when single. */
  private refused(
    batch: PreparedBatch,
    error: unknown,
    refused: Map<string, { endpoint: string; count: number; cause: string }>,
  ): void {
    if (batch.count > 1) {
      try {
        const halves = splitBatch(batch, this.buffers);
        this.buffers.give(batch.chunks);
        this.closed.unshift(...halves);
        return;
      } catch (split) {
        error = split;
      }
    }
    this.buffers.give(batch.chunks);
    const cause = writeErrorMessage(error);
    const key = `${batch.endpoint}\u0000${cause}`;
    const r = refused.get(key) ?? { endpoint: batch.endpoint, count: 0, cause };
    r.count += batch.count;
    refused.set(key, r);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
