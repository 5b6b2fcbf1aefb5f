/**
 * How long to wait before restarting a server that died. Doubling spaces out restarts of a
 * server that cannot stay up (a full disk, a broken configuration) so that its log is not
 * flooded and the machine not kept busy; the cap keeps a recovered server from waiting long;
 * a server that then stays up for `stableMs` is forgiven its past deaths.
 */
export interface RestartBackoff {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly stableMs: number;
}

export const DEFAULT_RESTART_BACKOFF: RestartBackoff = {
  initialMs: 500,
  maxMs: 30_000,
  stableMs: 60_000,
};

/**
 * The number of deaths in a row, counting this one: a server that had been up for at least
 * `stableMs` starts a new series at 1.
 */
export function deathsInARow(previous: number, uptimeMs: number, backoff: RestartBackoff): number {
  return uptimeMs >= backoff.stableMs ? 1 : previous + 1;
}

/** The wait before the restart that follows the `deaths`-th death in a row (1 or more). */
export function restartDelayMs(deaths: number, backoff: RestartBackoff): number {
  if (!Number.isInteger(deaths) || deaths < 1) {
    throw new RangeError(`deaths: expected an integer of at least 1, got ${deaths}`);
  }
  // Past 2^52 the product overflows to Infinity, which the cap turns back into maxMs.
  return Math.min(backoff.maxMs, backoff.initialMs * 2 ** (deaths - 1));
}
