/**
 * Whose fault a failed write is, from the PostgreSQL error (its SQLSTATE), so that a batched
 * writer knows whether to keep its rows for the next attempt or to give one up:
 *
 * - `row`: class 22 (data exception: a NUL in jsonb, a lone surrogate, a value out of range)
 *   or 23 (integrity constraint violation). The row's own values are refused; written again
 *   as it is, it would be refused for ever.
 * - `transient`: no SQLSTATE (the connection failed, timed out, was closed), or class 08
 *   (connection exception), 40 (transaction rollback: serialization failure, deadlock),
 *   53 (insufficient resources), 57 (operator intervention: shutdown, cancelled statement) or
 *   58 (system error). The database, not the rows: the same write later may well succeed.
 * - `other`: any other SQLSTATE (a trigger's own exception, a missing privilege, a read-only
 *   server). Nothing says whether one row or the whole table is at fault: a writer may try its
 *   rows one by one, but gives up none of them on such an error.
 */
export type WriteFault = 'row' | 'transient' | 'other';

const ROW_CLASSES: ReadonlySet<string> = new Set(['22', '23']);
const TRANSIENT_CLASSES: ReadonlySet<string> = new Set(['08', '40', '53', '57', '58']);
const SQLSTATE = /^[0-9A-Z]{5}$/;

/**
 * The SQLSTATE of a PostgreSQL error: node-postgres' `DatabaseError`, or an error wrapping
 * one (TypeORM's `QueryFailedError` keeps it as `driverError`). Null for anything else — a
 * Node.js system error's `code` (`ECONNREFUSED`, `EPIPE`) is not one: a database error also
 * carries its `severity`.
 */
export function sqlStateOf(error: unknown): string | null {
  if (typeof error !== 'object' || error === null) return null;
  const driver = (error as { driverError?: unknown }).driverError;
  if (typeof driver === 'object' && driver !== null && driver !== error) {
    const inner = sqlStateOf(driver);
    if (inner !== null) return inner;
  }
  const { code, severity } = error as { code?: unknown; severity?: unknown };
  return typeof code === 'string' && SQLSTATE.test(code) && typeof severity === 'string'
    ? code
    : null;
}

export function writeFaultOf(error: unknown): WriteFault {
  const state = sqlStateOf(error);
  if (state === null) return 'transient';
  const cls = state.slice(0, 2);
  if (ROW_CLASSES.has(cls)) return 'row';
  if (TRANSIENT_CLASSES.has(cls)) return 'transient';
  return 'other';
}

/** One line for a log or a ledger payload: the message, with its SQLSTATE when it has one. */
export function writeErrorMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const state = sqlStateOf(error);
  return state === null ? message : `${message} (SQLSTATE ${state})`;
}
