/**
 * Why a prediction is not in the log: the log is off (`disabled`), its queue was full
 * (`queue-full`), the service is shutting down (`shutting-down`), the writer's thread failed
 * with it (`writer-lost`), PostgreSQL refused one of its values (`refused`), or it could not be
 * serialized (`invalid`).
 */
export type LogDropReason =
  'disabled' | 'queue-full' | 'shutting-down' | 'writer-lost' | 'refused' | 'invalid';

/**
 * Where one prediction ended up: committed to the log (`written`), on disk in the spool to be
 * written once the database is back (`spooled`), or not kept at all (`dropped`).
 */
export type LogOutcome =
  | { readonly kind: 'written' }
  | { readonly kind: 'spooled' }
  | { readonly kind: 'dropped'; readonly reason: LogDropReason; readonly message: string };

interface Waiter {
  /** Its place among its endpoint's accepted predictions, from 1. */
  readonly seq: number;
  readonly resolve: (outcome: LogOutcome) => void;
}

/** One endpoint's predictions, as counts, and the callers waiting for some of them. */
interface Line {
  accepted: number;
  /** Accepted and handed over to the writer (the rest wait in the service's packer). */
  handedOver: number;
  settled: number;
  /** Oldest first, from `head` on. */
  waiters: Waiter[];
  head: number;
}

/**
 * Tells a caller when its prediction is safe, without a promise per prediction. Each
 * endpoint's predictions are settled — written, spooled or given up — in the order they were
 * accepted, by reports that say how many of the endpoint's they settle (log-writer.ts), so a
 * count per endpoint places each prediction, and only a caller that asked waits, in a FIFO
 * per endpoint. Predictions recorded without a caller waiting cost one count.
 */
export class Settlements {
  private readonly lines = new Map<string, Line>();
  private waiting = 0;

  /** Callers waiting for an outcome. */
  get pending(): number {
    return this.waiting;
  }

  /** A prediction of `endpoint` accepted (after every one accepted before it). */
  accept(endpoint: string): void {
    const line = this.lines.get(endpoint);
    if (line) line.accepted++;
    else this.lines.set(endpoint, { accepted: 1, handedOver: 0, settled: 0, waiters: [], head: 0 });
  }

  /** The outcome of the prediction of `endpoint` accepted last; resolves once, never rejects. */
  outcomeOfLast(endpoint: string): Promise<LogOutcome> {
    const line = this.lines.get(endpoint);
    if (!line || line.accepted === line.settled)
      throw new Error(`no prediction of ${endpoint} is waiting to be settled`);
    return new Promise((resolve) => {
      line.waiters.push({ seq: line.accepted, resolve });
      this.waiting++;
    });
  }

  /** Everything accepted so far has been handed over to the writer. */
  handedOver(): void {
    for (const line of this.lines.values()) line.handedOver = line.accepted;
  }

  /**
   * The next `count` handed-over predictions of `endpoint` have this outcome. Returns how many
   * of them there were not (a report about predictions this side does not hold: none, unless
   * the writer and this side disagree), after settling the ones there were.
   */
  settle(endpoint: string, count: number, outcome: LogOutcome): number {
    const line = this.lines.get(endpoint);
    if (!line) return count;
    const n = Math.min(count, line.handedOver - line.settled);
    this.advance(line, line.settled + n, outcome);
    return count - n;
  }

  /** Every handed-over prediction not yet settled has this outcome (the writer is gone). */
  settleHandedOver(outcome: LogOutcome): number {
    let total = 0;
    for (const line of this.lines.values()) {
      total += line.handedOver - line.settled;
      this.advance(line, line.handedOver, outcome);
    }
    return total;
  }

  /** Every accepted prediction not yet settled has this outcome (the log has stopped). */
  settleAll(outcome: LogOutcome): number {
    let total = 0;
    for (const line of this.lines.values()) {
      total += line.accepted - line.settled;
      line.handedOver = line.accepted;
      this.advance(line, line.accepted, outcome);
    }
    return total;
  }

  private advance(line: Line, settled: number, outcome: LogOutcome): void {
    line.settled = settled;
    const { waiters } = line;
    while (line.head < waiters.length) {
      const waiter = waiters[line.head];
      if (!waiter || waiter.seq > settled) break;
      line.head++;
      this.waiting--;
      waiter.resolve(outcome);
    }
    // The array is a queue: what was settled is cut off now and then, not at each settlement.
    if (line.head === waiters.length) {
      waiters.length = 0;
      line.head = 0;
    } else if (line.head > 1024 && line.head * 2 > waiters.length) {
      waiters.splice(0, line.head);
      line.head = 0;
    }
  }
}
