import type { DatabaseSupervisorState } from '../database/supervisor-state.js';
import type { ProbeOutcome } from './database-probe.js';

/** The answer of `GET /v2/health/ready`: ready, or not and why. */
export type Readiness =
  { readonly ready: true } | { readonly ready: false; readonly reason: string };

/**
 * Not ready without asking the server: the database is not open (or not migrated), or the
 * embedded server is known to be down. Undefined: the probe decides. The supervisor is null
 * with an external DATABASE_URL.
 */
export function readinessBeforeProbe(
  opened: boolean,
  supervisor: DatabaseSupervisorState | null,
): Readiness | undefined {
  if (!opened) return { ready: false, reason: 'the database is not open or not migrated' };
  if (supervisor === null || supervisor.status === 'running') return undefined;
  const death = supervisor.lastDeath ? ` after it died (${supervisor.lastDeath.cause})` : '';
  const next = supervisor.nextAttemptAt ? `; next attempt at ${supervisor.nextAttemptAt}` : '';
  return { ready: false, reason: `the embedded PostgreSQL is ${supervisor.status}${death}${next}` };
}

/** Ready when the bounded `SELECT 1` was answered. */
export function readinessFromProbe(outcome: ProbeOutcome): Readiness {
  return outcome.ok
    ? { ready: true }
    : { ready: false, reason: `PostgreSQL unreachable: ${outcome.reason}` };
}
