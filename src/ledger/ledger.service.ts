import { Injectable, Optional } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { GatehouseMetrics } from '../telemetry/metrics.js';
import { currentTraceId } from '../telemetry/trace-id.js';
import { withSpan } from '../telemetry/tracing.js';
import type { LedgerEvent } from './ledger-event.js';
import type { EventInput } from './event-catalogue.js';
import { queueEventsOnIntactLedger, queuedEventOf } from './ledger-queue.js';
import { LedgerRepository, type PendingRow } from './ledger.repository.js';
import { LedgerSequencer, type QueuedEvent } from './ledger-sequencer.service.js';

export type { Actor, EventInput } from './event-catalogue.js';

export interface AppendedEvent {
  readonly seq: number;
  readonly id: string;
  readonly hash: string;
  readonly event: LedgerEvent;
}

/**
 * A unit of work: the caller's changes go through `manager`, its events through `record`. Both
 * commit together or not at all.
 */
export interface LedgerTx {
  readonly manager: EntityManager;
  record(input: EventInput): void;
}

/**
 * The one way anything is written to the ledger. Events recorded in a unit of work are queued
 * in the same database transaction as the caller's changes (no change without its event, no
 * event without its change); after the commit, the sequencer seals them into the hash chain
 * and the call returns only once they are sealed and signed. A truncated ledger takes nothing:
 * the unit of work is rolled back with LedgerTruncatedError (CONFLICT).
 */
@Injectable()
export class LedgerService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly repository: LedgerRepository,
    private readonly sequencer: LedgerSequencer,
    // Absent in the CLI's application context, which has no /metrics to serve.
    @Optional() private readonly metrics?: GatehouseMetrics,
  ) {}

  async transaction<T>(work: (tx: LedgerTx) => T | Promise<T>): Promise<T> {
    const { result, queued } = await this.run(work);
    await this.seal(queued);
    return result;
  }

  /** As `transaction`, and reports the events as sealed (seq, hash). */
  async transactionWithEvents<T>(
    work: (tx: LedgerTx) => T | Promise<T>,
  ): Promise<{ result: T; events: AppendedEvent[] }> {
    const { result, queued } = await this.run(work);
    await this.seal(queued);
    const ids = queued.map((q) => q.eventId);
    const rows = ids.length === 0 ? [] : await this.repository.eventsByIds(ids);
    return {
      result,
      events: rows.map((r) => ({
        seq: r.seq,
        id: r.id,
        hash: r.hash,
        event: JSON.parse(r.canonical) as LedgerEvent,
      })),
    };
  }

  /**
   * One event with no change of state beside it (a refused attempt, say): it has nothing to
   * commit with, so it skips the queue table and goes straight to the next sequencer pass, whose
   * commit makes it durable before the call returns.
   */
  async record(input: EventInput): Promise<void> {
    await this.seal([queuedEventOf(input, currentTraceId())]);
  }

  /**
   * Seals events that a writer with a connection of its own (the prediction log's thread)
   * committed to the queue with its change (`queueEvents`); resolves once they are in the chain.
   */
  sealQueued(events: readonly QueuedEvent[]): Promise<void> {
    return this.seal(events);
  }

  /**
   * Waits for the sequencer pass that seals these events: the `gatehouse.ledger.append` span
   * inside the trace that caused them, and the append metrics.
   */
  private async seal(events: Parameters<LedgerSequencer['submit']>[0]): Promise<void> {
    if (events.length === 0) return this.sequencer.submit(events);
    const started = performance.now();
    const types = [...new Set(events.map((e) => e.type))].join(',');
    await withSpan(
      'gatehouse.ledger.append',
      { 'gatehouse.events': events.length, 'gatehouse.event_types': types },
      () => this.sequencer.submit(events),
    );
    this.metrics?.recordLedgerAppend(events.length, (performance.now() - started) / 1000);
  }

  /** Runs the unit of work with its events queued in its transaction; returns them with their queue ids. */
  private async run<T>(
    work: (tx: LedgerTx) => T | Promise<T>,
  ): Promise<{ result: T; queued: QueuedEvent[] }> {
    const traceId = currentTraceId();
    return this.dataSource.transaction(async (manager) => {
      const queued: Omit<PendingRow, 'id'>[] = [];
      const result = await work({
        manager,
        record: (input) => queued.push(queuedEventOf(input, traceId)),
      });
      if (queued.length === 0) return { result, queued: [] };
      const ids = await queueEventsOnIntactLedger(manager, queued);
      return {
        result,
        queued: queued.map((q, i) => {
          const id = ids[i];
          if (id === undefined) throw new Error('ledger queue returned fewer ids than events');
          return { ...q, id };
        }),
      };
    });
  }
}
