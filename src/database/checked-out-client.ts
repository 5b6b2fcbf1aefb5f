import type pg from 'pg';

/** A connection taken from a pg pool for several statements, returned with `release`. */
export interface CheckedOutClient {
  readonly client: pg.PoolClient;
  /**
   * Gives the connection back; `discard` closes it instead (left mid-protocol, say). One that
   * died while out is always closed. Calls after the first do nothing.
   */
  release(discard?: boolean): void;
}

/**
 * Takes a connection from `pool`, listening for its 'error' until it is released.
 *
 * pg-pool listens for a connection's 'error' only while the connection is idle in the pool.
 * One that is checked out and dies between two statements (the server killed or restarted,
 * the network cut) emits 'error' with nobody listening, and Node ends the process. Here the
 * error is handed to `onError` (to log); the statement in flight, or the next one, fails on its
 * own with the connection's error, so the owner's usual failure path runs; and the connection
 * is closed on release rather than handed to the next caller. The pool opens a fresh one when
 * asked again: that is the reconnection.
 */
export async function checkOut(
  pool: pg.Pool,
  onError: (error: Error) => void,
): Promise<CheckedOutClient> {
  const client = await pool.connect();
  let lost: Error | undefined;
  let released = false;
  const listener = (error: Error): void => {
    lost ??= error;
    onError(error);
  };
  client.on('error', listener);
  return {
    client,
    release(discard = false) {
      if (released) return;
      released = true;
      client.removeListener('error', listener);
      client.release(lost ?? discard);
    },
  };
}
