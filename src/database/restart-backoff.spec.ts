import { describe, expect, it } from '@jest/globals';
import {
  DEFAULT_RESTART_BACKOFF,
  deathsInARow,
  restartDelayMs,
  type RestartBackoff,
} from './restart-backoff.js';

const backoff: RestartBackoff = { initialMs: 500, maxMs: 30_000, stableMs: 60_000 };

describe('the wait before restarting a dead server', () => {
  it('starts at the initial wait and doubles up to the cap', () => {
    const waits = [1, 2, 3, 4, 5, 6, 7, 8].map((n) => restartDelayMs(n, backoff));
    expect(waits).toEqual([500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000]);
  });

  it('stays at the cap however many deaths, without overflowing', () => {
    expect(restartDelayMs(1100, backoff)).toBe(30_000);
    expect(restartDelayMs(Number.MAX_SAFE_INTEGER, backoff)).toBe(30_000);
  });

  it('refuses a death count below 1 or not whole, naming it', () => {
    expect(() => restartDelayMs(0, backoff)).toThrow(/deaths: expected an integer of at least 1/);
    expect(() => restartDelayMs(1.5, backoff)).toThrow(/deaths/);
  });

  it('is the documented 0.5 s doubling to 30 s by default', () => {
    expect(restartDelayMs(1, DEFAULT_RESTART_BACKOFF)).toBe(500);
    expect(restartDelayMs(20, DEFAULT_RESTART_BACKOFF)).toBe(30_000);
  });
});

describe('deaths in a row', () => {
  it('counts a death soon after a restart as one more', () => {
    expect(deathsInARow(0, 10, backoff)).toBe(1);
    expect(deathsInARow(3, 59_999, backoff)).toBe(4);
  });

  it('starts again at 1 once the server had stayed up for the stable period', () => {
    expect(deathsInARow(7, 60_000, backoff)).toBe(1);
    expect(restartDelayMs(deathsInARow(7, 120_000, backoff), backoff)).toBe(500);
  });
});
