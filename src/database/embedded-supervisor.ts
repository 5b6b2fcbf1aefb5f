import type { ChildProcess } from 'node:child_process';
import { DEFAULT_RESTART_BACKOFF, deathsInARow, restartDelayMs } from './restart-backoff.js';
import type { RestartBackoff } from './restart-backoff.js';
import type { DatabaseSupervisorState, DatabaseSupervisorStatus } from './supervisor-state.js';

/** The server being supervised: start resolves with its postmaster once it accepts connections. */
export interface Postmaster {
  start(): Promise<ChildProcess>;
  /** Stops a running server cleanly (a fast shutdown). */
  stop(): Promise<void>;
  /** Called before each restart: clears what the dead postmaster left behind. */
  clearLeftovers(): void;
  /** The server's last error lines, for the log when a restart fails. */
  recentErrors(): string;
}

export interface SupervisorLog {
  log(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** Runs `fn` after `ms`; returns a cancel. Injected so that tests need no clock. */
export type Schedule = (fn: () => void, ms: number) => () => void;

const realSchedule: Schedule = (fn, ms) => {
  const timer = setTimeout(fn, ms);
  return () => {
    clearTimeout(timer);
  };
};

/**
 * Keeps the embedded PostgreSQL running for as long as the service runs: a postmaster that
 * exits without being asked to (killed, crashed, out of memory) is started again on the same
 * cluster, where PostgreSQL recovers from its WAL, after a backoff wait. The service's pools
 * reconnect by themselves once it is back.
 */
export class EmbeddedSupervisor {
  private status: DatabaseSupervisorStatus = 'running';
  private restarts = 0;
  private deaths = 0;
  private lastDeath: DatabaseSupervisorState['lastDeath'] = null;
  private nextAttemptAt: Date | null = null;
  private upSince: number;
  private postmaster: ChildProcess;
  private cancelWait: (() => void) | undefined;
  private attempt: Promise<void> | undefined;

  constructor(
    private readonly server: Postmaster,
    running: ChildProcess,
    private readonly logger: SupervisorLog,
    private readonly backoff: RestartBackoff = DEFAULT_RESTART_BACKOFF,
    private readonly schedule: Schedule = realSchedule,
    private readonly now: () => number = Date.now,
  ) {
    this.postmaster = running;
    this.upSince = this.now();
    this.watch(running);
  }

  state(): DatabaseSupervisorState {
    return {
      status: this.status,
      restarts: this.restarts,
      lastDeath: this.lastDeath,
      nextAttemptAt: this.nextAttemptAt?.toISOString() ?? null,
    };
  }

  /** No more restarts; a running server is stopped cleanly, a restart under way is awaited. */
  async stop(): Promise<void> {
    if (this.status === 'stopped') return;
    this.status = 'stopped';
    this.nextAttemptAt = null;
    this.cancelWait?.();
    await this.attempt;
    if (alive(this.postmaster)) await this.server.stop();
  }

  private watch(child: ChildProcess): void {
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
      const cause = signal === null ? `exit code ${code ?? '?'}` : `signal ${signal}`;
      this.died(child.pid ?? null, cause, this.now() - this.upSince);
    };
    // Died between being ready and being watched: the event has been and gone.
    if (!alive(child)) onExit(child.exitCode, child.signalCode);
    else child.once('exit', onExit);
  }

  /** `pid`: null for a start that failed, whose postmaster never came up. */
  private died(pid: number | null, cause: string, uptimeMs: number): void {
    if (this.status === 'stopped') return;
    const at = new Date(this.now());
    this.lastDeath = { at: at.toISOString(), cause };
    this.deaths = deathsInARow(this.deaths, uptimeMs, this.backoff);
    const wait = restartDelayMs(this.deaths, this.backoff);
    this.logger.error(
      `embedded PostgreSQL${pid === null ? '' : ` (pid ${pid})`} died: ${cause}; restarting in ${wait} ms (death ${this.deaths} in a row)`,
    );
    this.status = 'restarting';
    this.nextAttemptAt = new Date(at.getTime() + wait);
    this.cancelWait = this.schedule(() => {
      this.cancelWait = undefined;
      this.attempt = this.restart().finally(() => {
        this.attempt = undefined;
      });
    }, wait);
  }

  private async restart(): Promise<void> {
    this.nextAttemptAt = null;
    let child: ChildProcess;
    try {
      this.server.clearLeftovers();
      child = await this.server.start();
    } catch (error) {
      const reason = error instanceof Error ? error.message : '';
      this.logger.warn(
        `embedded PostgreSQL did not restart: ${[reason, this.server.recentErrors()].filter(Boolean).join(' ') || 'it exited while starting'}`,
      );
      // A failed start is one more death in a row: the next wait is longer.
      this.died(null, 'it did not start', 0);
      return;
    }
    this.postmaster = child;
    if (this.status === 'stopped') return; // stop() is waiting for us and stops it
    this.upSince = this.now();
    this.restarts += 1;
    this.status = 'running';
    this.logger.log(
      `embedded PostgreSQL restarted (pid ${child.pid ?? '?'}, restart ${this.restarts})`,
    );
    this.watch(child);
  }
}

function alive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}
