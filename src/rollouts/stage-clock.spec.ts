import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { MetricsHeartbeat } from '../arm-metrics/arm-metrics.repository.js';
import { stallLimits } from './metrics-stall.js';
import {
  advanceClock,
  metricsArrivingUntil,
  STOPPED_CLOCK,
  takeoverClock,
  type StageClock,
} from './stage-clock.js';

const T0 = Date.parse('2026-12-07T10:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms);
const HEARTBEAT = 2000;
/** A tick of replica `by` at `ms`, with metrics arriving until `until` (always, by default). */
const tick = (ms: number, by = 'a', until: number | null = ms + 1000) => ({
  now: at(ms),
  observer: by,
  heartbeatMs: HEARTBEAT,
  metricsUntil: until === null ? null : at(until),
});
const run = (ticks: readonly ReturnType<typeof tick>[], from: StageClock = STOPPED_CLOCK) =>
  ticks.reduce((c, t) => advanceClock(c, t).clock, from);

describe('the stage clock', () => {
  it('starts at the driver’s first tick and counts the ticks after it', () => {
    const first = advanceClock(STOPPED_CLOCK, tick(0));
    expect(first).toMatchObject({ countedMs: 0, observing: false });
    const second = advanceClock(first.clock, tick(1000));
    expect(second).toMatchObject({ countedMs: 1000, unobservedMs: 0, observing: true });
    expect(second.clock).toEqual({ observedMs: 1000, at: at(1000), by: 'a' });
  });

  it('counts nothing of a takeover’s gap, keeps what was observed before, and does not observe on the takeover tick', () => {
    const before = run([tick(0), tick(1000), tick(2000)]);
    const takeover = advanceClock(before, tick(3_602_000, 'b'));
    expect(takeover).toMatchObject({ countedMs: 0, unobservedMs: 3_600_000, observing: false });
    expect(takeover.clock).toEqual({ observedMs: 2000, at: at(3_602_000), by: 'b' });
    const next = advanceClock(takeover.clock, tick(3_603_000, 'b'));
    expect(next).toMatchObject({ countedMs: 1000, observing: true });
    expect(next.clock.observedMs).toBe(3000);
  });

  it('counts one heartbeat interval of a longer gap of the same driver, and not the rest', () => {
    const c = run([tick(0), tick(1000)]);
    const late = advanceClock(c, tick(61_000));
    expect(late).toMatchObject({ countedMs: HEARTBEAT, unobservedMs: 58_000 });
  });

  it('counts only up to where the metrics stopped arriving', () => {
    const c = run([tick(0), tick(1000)]);
    expect(advanceClock(c, tick(2000, 'a', 1400))).toMatchObject({
      countedMs: 400,
      unobservedMs: 600,
    });
    // No metrics since the previous tick: nothing counts, and the stage cannot pass now.
    expect(advanceClock(c, tick(2000, 'a', 900))).toMatchObject({
      countedMs: 0,
      observing: false,
    });
    expect(advanceClock(c, tick(2000, 'a', null))).toMatchObject({
      countedMs: 0,
      observing: false,
    });
  });

  it('never runs backwards when a tick reads an earlier time', () => {
    const c = run([tick(0), tick(5000)]);
    const back = advanceClock(c, tick(4000));
    expect(back.countedMs).toBe(0);
    expect(back.clock.at).toEqual(at(5000));
  });

  const ticks = fc.array(
    fc.record({
      step: fc.integer({ min: 0, max: 20_000 }),
      by: fc.constantFrom('a', 'b'),
      // Metrics arrive until some point around the tick, or not at all.
      until: fc.option(fc.integer({ min: -10_000, max: 10_000 }), { nil: null }),
    }),
    { maxLength: 40 },
  );
  const replay = (steps: { step: number; by: string; until: number | null }[]) => {
    let now = 0;
    let clock = STOPPED_CLOCK;
    const out: { now: number; gap: number; counted: number; previousBy: string | null }[] = [];
    for (const s of steps) {
      const previous = clock.at === null ? null : clock.at.getTime() - T0;
      now += s.step;
      const step = advanceClock(clock, tick(now, s.by, s.until === null ? null : now + s.until));
      out.push({
        now,
        gap: previous === null ? 0 : now - previous,
        counted: step.countedMs,
        previousBy: clock.by,
      });
      expect(step.countedMs + step.unobservedMs).toBe(previous === null ? 0 : now - previous);
      clock = step.clock;
    }
    return { clock, out, wall: now };
  };

  it('never counts more than the wall time since its first tick', () => {
    fc.assert(
      fc.property(ticks, (steps) => {
        const { clock, wall } = replay(steps);
        expect(clock.observedMs).toBeLessThanOrEqual(wall - (steps[0]?.step ?? 0));
        expect(clock.observedMs).toBeGreaterThanOrEqual(0);
      }),
    );
  });

  it('never counts a takeover, beyond a heartbeat of a gap, or past the metrics', () => {
    fc.assert(
      fc.property(ticks, (steps) => {
        const { out } = replay(steps);
        out.forEach((o, i) => {
          if (o.previousBy !== (steps[i]?.by ?? null)) expect(o.counted).toBe(0);
          expect(o.counted).toBeLessThanOrEqual(Math.min(o.gap, HEARTBEAT));
          const until = steps[i]?.until;
          if (until === null || until === undefined) expect(o.counted).toBe(0);
          else expect(o.counted).toBeLessThanOrEqual(Math.max(0, o.gap + until));
        });
      }),
    );
  });

  it('counts everything of a driver that ticks within its heartbeat with metrics arriving', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: HEARTBEAT }), { maxLength: 40 }), (steps) => {
        const { clock, wall } = replay(steps.map((step) => ({ step, by: 'a', until: 1 })));
        expect(clock.observedMs).toBe(wall - (steps[0] ?? 0));
      }),
    );
  });

  it('tells the takeover’s ledger event what was kept and what was not counted', () => {
    const clock = { observedMs: 2500, at: at(1000), by: 'host:1:aa' };
    expect(takeoverClock(clock, { name: 'canary-25', index: 1 }, at(61_000))).toEqual({
      stage: 'canary-25',
      index: 1,
      rule: 'gap-subtracted',
      observedSeconds: 2.5,
      unobservedSeconds: 60,
      lastObservedAt: '2026-12-07T10:00:01.000Z',
      lastObservedBy: 'host:1:aa',
    });
    expect(takeoverClock(STOPPED_CLOCK, { name: 'shadow', index: 0 }, at(0))).toMatchObject({
      observedSeconds: 0,
      unobservedSeconds: null,
    });
  });
});

describe('metrics arriving', () => {
  const LIMITS = stallLimits(1000, 5, 1000);
  const NOW = at(100_000);
  const beat = (b: Partial<MetricsHeartbeat>): MetricsHeartbeat => ({
    replica: 'host:1:aa',
    endpoint: 'credit',
    seenAt: at(99_500),
    writtenAt: at(99_500),
    unwrittenSince: null,
    cause: null,
    ...b,
  });

  it('arrive until the next flush is late past a flush of slack', () => {
    expect(metricsArrivingUntil([beat({})], NOW, LIMITS)).toEqual(at(101_500));
  });

  it('do not arrive without traffic counted and written', () => {
    expect(metricsArrivingUntil([], NOW, LIMITS)).toBeNull();
    expect(
      metricsArrivingUntil(
        [beat({ writtenAt: at(90_000), unwrittenSince: at(95_000) })],
        NOW,
        LIMITS,
      ),
    ).toBeNull();
  });

  it('stop where a replica still serving began to hold unwritten counts', () => {
    const stalled = beat({ replica: 'b', writtenAt: at(97_000), unwrittenSince: at(98_000) });
    expect(metricsArrivingUntil([beat({}), stalled], NOW, LIMITS)).toEqual(at(98_000));
    // A replica gone for longer than it counts as serving no longer holds the clock up.
    const gone = { ...stalled, seenAt: at(90_000) };
    expect(metricsArrivingUntil([beat({}), gone], NOW, LIMITS)).toEqual(at(101_500));
  });
});
