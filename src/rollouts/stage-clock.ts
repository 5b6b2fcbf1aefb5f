import type { MetricsHeartbeat } from '../arm-metrics/arm-metrics.repository.js';
import type { TakeoverClockPayload } from '../ledger/event-catalogue.js';
import type { StallLimits } from './metrics-stall.js';

/**
 * A stage's minimum duration (shadow `minDurationSeconds`, canary `bakeSeconds`) is time the
 * stage was watched, not time since it was entered. A driver that crashed, froze or lost its
 * lease watched nothing, and neither did one whose metrics stopped arriving: counting that
 * time once let a canary step pass a moment after a takeover with no traffic seen since.
 *
 * The clock advances at each tick of the driver holding the lease, from its previous tick:
 * in full up to one heartbeat interval, only while the endpoint's metrics were arriving, and
 * not at all when the previous tick was another replica's (a takeover: nobody watched in
 * between). Time not counted is subtracted, not a reason to start over: what was watched
 * before a crash was watched, and a crash-looping controller must not hold a stage for ever.
 */
export interface StageClock {
  /** Observed time of the stage in progress. */
  readonly observedMs: number;
  /** The driver's last tick that settled the clock; null before the first one. */
  readonly at: Date | null;
  /** The replica whose tick that was. */
  readonly by: string | null;
}

/** What the driver knows at a tick. */
export interface Tick {
  readonly now: Date;
  readonly observer: string;
  /** How far apart a driver's ticks may be and still count in full: longer is a gap. */
  readonly heartbeatMs: number;
  /** Until when the endpoint's metrics are known to arrive (metricsArrivingUntil). */
  readonly metricsUntil: Date | null;
}

export interface ClockStep {
  readonly clock: StageClock;
  readonly countedMs: number;
  /** The part of the time since the previous tick that did not count. */
  readonly unobservedMs: number;
  /**
   * Whether this driver watched the stage since its own previous tick, with metrics arriving.
   * A stage passes only on such a tick, so the first tick of a driver that takes over (or
   * restarts) never passes it, nor does a tick after which no metrics arrived. It does not ask
   * for a punctual tick: a loaded controller ticks late, and a stage must still pass.
   */
  readonly observing: boolean;
}

export const STOPPED_CLOCK: StageClock = { observedMs: 0, at: null, by: null };

export function advanceClock(clock: StageClock, tick: Tick): ClockStep {
  const now = tick.now.getTime();
  const previous = clock.at?.getTime() ?? null;
  // A clock read from another host may lag: time never runs backwards on the stage.
  const at = new Date(previous === null ? now : Math.max(now, previous));
  const settled = (countedMs: number): StageClock => ({
    observedMs: clock.observedMs + countedMs,
    at,
    by: tick.observer,
  });
  if (previous === null || clock.by !== tick.observer) {
    const unobservedMs = previous === null ? 0 : Math.max(0, now - previous);
    return { clock: settled(0), countedMs: 0, unobservedMs, observing: false };
  }
  const elapsed = Math.max(0, now - previous);
  const metricsUntil = tick.metricsUntil?.getTime() ?? Number.NEGATIVE_INFINITY;
  const end = Math.min(previous + Math.min(elapsed, tick.heartbeatMs), metricsUntil);
  const countedMs = Math.max(0, end - previous);
  return {
    clock: settled(countedMs),
    countedMs,
    unobservedMs: elapsed - countedMs,
    observing: countedMs > 0,
  };
}

/**
 * Until when the endpoint's metrics are known to arrive: a replica that counted requests and
 * wrote them all, plus `arrivalMs` for its next flush; cut where a replica still serving the
 * endpoint began to hold counts it cannot write. Null when no counts arrive at all (no
 * traffic, or every replica that had some is gone): that time is not observed either.
 */
export function metricsArrivingUntil(
  beats: readonly MetricsHeartbeat[],
  now: Date,
  limits: StallLimits,
): Date | null {
  let latest: number | null = null;
  let cut = Number.POSITIVE_INFINITY;
  for (const b of beats) {
    if (b.seenAt !== null && b.writtenAt !== null && b.writtenAt >= b.seenAt)
      latest = Math.max(latest ?? b.seenAt.getTime(), b.seenAt.getTime());
    const serving = b.seenAt !== null && now.getTime() - b.seenAt.getTime() <= limits.servingMs;
    if (serving && b.unwrittenSince !== null) cut = Math.min(cut, b.unwrittenSince.getTime());
  }
  if (latest === null) return null;
  return new Date(Math.min(latest + limits.arrivalMs, cut));
}

/** What the takeover's ledger event says of the stage's clock. */
export function takeoverClock(
  clock: StageClock,
  stage: { readonly name: string; readonly index: number },
  now: Date,
): TakeoverClockPayload {
  return {
    stage: stage.name,
    index: stage.index,
    rule: 'gap-subtracted',
    observedSeconds: clock.observedMs / 1000,
    unobservedSeconds:
      clock.at === null ? null : Math.max(0, now.getTime() - clock.at.getTime()) / 1000,
    lastObservedAt: clock.at?.toISOString() ?? null,
    lastObservedBy: clock.by,
  };
}

/** A stage's time as a decision reads it. */
export interface StageTime {
  readonly observedMs: number;
  readonly observing: boolean;
}
