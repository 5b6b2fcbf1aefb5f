import { describe, expect, it } from '@jest/globals';
import type { DatabaseSupervisorState } from '../database/supervisor-state.js';
import { readinessBeforeProbe, readinessFromProbe } from './readiness.js';

const running: DatabaseSupervisorState = {
  status: 'running',
  restarts: 0,
  lastDeath: null,
  nextAttemptAt: null,
};

describe('readiness', () => {
  it('is not ready before the migrations ran, whatever the server says', () => {
    expect(readinessBeforeProbe(false, null)).toEqual({
      ready: false,
      reason: 'the database is not open or not migrated',
    });
  });

  it('leaves the verdict to the probe with an external database or a running embedded one', () => {
    expect(readinessBeforeProbe(true, null)).toBeUndefined();
    expect(readinessBeforeProbe(true, running)).toBeUndefined();
  });

  it('is not ready while the embedded server restarts, saying why and until when', () => {
    const restarting: DatabaseSupervisorState = {
      status: 'restarting',
      restarts: 1,
      lastDeath: { at: '2026-12-07T16:00:00.000Z', cause: 'signal SIGKILL' },
      nextAttemptAt: '2026-12-07T16:00:00.500Z',
    };
    expect(readinessBeforeProbe(true, restarting)).toEqual({
      ready: false,
      reason:
        'the embedded PostgreSQL is restarting after it died (signal SIGKILL); next attempt at 2026-12-07T16:00:00.500Z',
    });
    expect(readinessBeforeProbe(true, { ...running, status: 'stopped' })).toEqual({
      ready: false,
      reason: 'the embedded PostgreSQL is stopped',
    });
  });

  it('follows the probe', () => {
    expect(readinessFromProbe({ ok: true })).toEqual({ ready: true });
    expect(
      readinessFromProbe({ ok: false, reason: 'connect ECONNREFUSED 127.0.0.1:5432' }),
    ).toEqual({
      ready: false,
      reason: 'PostgreSQL unreachable: connect ECONNREFUSED 127.0.0.1:5432',
    });
  });
});
