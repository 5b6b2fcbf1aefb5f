/**
 * What the service knows of the embedded PostgreSQL it runs, for readiness and operators.
 * `running`: the server is up (it answers once its crash recovery has finished);
 * `restarting`: it died and a restart is waiting or under way — not ready;
 * `stopped`: the service is shutting down and will not restart it.
 */
export type DatabaseSupervisorStatus = 'running' | 'restarting' | 'stopped';

export interface DatabaseSupervisorState {
  readonly status: DatabaseSupervisorStatus;
  /** Successful restarts since the service started. */
  readonly restarts: number;
  /** The last death seen: when (RFC 3339) and how (`signal SIGKILL`, `exit code 1`). */
  readonly lastDeath: { readonly at: string; readonly cause: string } | null;
  /** While restarting: when the next attempt is due (RFC 3339). */
  readonly nextAttemptAt: string | null;
}

/** Readiness as the supervisor sees it: none (an external DATABASE_URL) never holds it back. */
export function supervisorAllowsReady(state: DatabaseSupervisorState | null): boolean {
  return state === null || state.status === 'running';
}
