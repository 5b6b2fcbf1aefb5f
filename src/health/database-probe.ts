import pg from 'pg';

/** What the probe found: the server answered, or why not. */
export type ProbeOutcome = { readonly ok: true } | { readonly ok: false; readonly reason: string };

export interface DatabaseProbeOptions {
  readonly connectionString: string;
  /** The longest a check takes, whatever the server does. */
  readonly deadlineMs?: number;
  readonly log: (message: string) => void;
}

/**
 * Asks PostgreSQL `SELECT 1` over a connection of its own, bounded in time.
 *
 * Not through the application's pool: when the server stops answering (paused, a network
 * black hole) the TCP connection stays up and every pooled connection waits for ever, so a
 * check queued behind them would hang as long as the outage lasts, and an orchestrator whose
 * probe hangs cannot tell "slow" from "gone". A pool of one connection with a connect and a
 * query timeout fails instead, and a connection that timed out is closed rather than reused
 * (pg releases it with the error). The deadline on top answers even if pg's own timers were
 * to let a check run on.
 */
export class DatabaseProbe {
  private readonly pool: pg.Pool;
  private readonly deadlineMs: number;
  /** Checks that arrive together share one query: a burst of probes opens one connection. */
  private inFlight: Promise<ProbeOutcome> | undefined;

  constructor(private readonly options: DatabaseProbeOptions) {
    this.deadlineMs = options.deadlineMs ?? 800;
    const half = Math.max(1, Math.floor(this.deadlineMs / 2));
    this.pool = new pg.Pool({
      connectionString: options.connectionString,
      application_name: 'gatehouse-readiness',
      max: 1,
      connectionTimeoutMillis: half,
      query_timeout: half,
      // Kept between probes (an orchestrator asks every few seconds): no connect per check.
      idleTimeoutMillis: 30_000,
      allowExitOnIdle: true,
    });
    // An idle probe connection the server dropped: the next check opens another.
    this.pool.on('error', (error) => {
      options.log(`readiness connection lost: ${error.message}`);
    });
  }

  check(): Promise<ProbeOutcome> {
    this.inFlight ??= this.query().finally(() => {
      this.inFlight = undefined;
    });
    return withDeadline(this.inFlight, this.deadlineMs);
  }

  close(): Promise<void> {
    return this.pool.end();
  }

  private async query(): Promise<ProbeOutcome> {
    try {
      await this.pool.query('SELECT 1');
      return { ok: true };
    } catch (error) {
      return { ok: false, reason: error instanceof Error ? error.message : String(error) };
    }
  }
}

function withDeadline(outcome: Promise<ProbeOutcome>, ms: number): Promise<ProbeOutcome> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<ProbeOutcome>((resolve) => {
    timer = setTimeout(() => {
      resolve({ ok: false, reason: `PostgreSQL did not answer within ${ms} ms` });
    }, ms);
  });
  return Promise.race([outcome, late]).finally(() => {
    clearTimeout(timer);
  });
}
