import { describe, expect, it } from '@jest/globals';
import { ConflictError } from '../common/errors.js';
import { LEDGER_EVENT_TYPES } from '../ledger/event-catalogue.js';
import {
  PROMOTION_CAUSES,
  PROMOTION_EVENTS,
  PROMOTION_TRANSITIONS,
  transition,
} from './promotion-state.js';
import { PROMOTION_STATUSES } from './vocabulary.js';

describe('the promotion state machine', () => {
  it.each(PROMOTION_TRANSITIONS.map((t) => [t.from, t.event, t.to] as const))(
    'moves %s on %s to %s',
    (from, event, to) => {
      expect(transition(from, event)).toBe(to);
    },
  );

  const pairs = PROMOTION_STATUSES.flatMap((from) =>
    PROMOTION_EVENTS.map((event) => [from, event] as const),
  ).filter(
    ([from, event]) => !PROMOTION_TRANSITIONS.some((t) => t.from === from && t.event === event),
  );

  it.each(pairs)('refuses %s on %s with CONFLICT, naming the status', (from, event) => {
    let refused: unknown;
    try {
      transition(from, event);
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(ConflictError);
    expect(refused).toMatchObject({
      code: 'CONFLICT',
      message: expect.stringContaining('the request'),
      details: { status: from },
    });
  });

  it('has one target per status and event, and every event leads somewhere', () => {
    const keys = PROMOTION_TRANSITIONS.map((t) => `${t.from} ${t.event}`);
    expect(new Set(keys).size).toBe(keys.length);
    for (const event of PROMOTION_EVENTS)
      expect(PROMOTION_TRANSITIONS.some((t) => t.event === event)).toBe(true);
  });

  it('ends a request in REJECTED, WITHDRAWN and ROLLED_BACK', () => {
    const leaving = new Set(PROMOTION_TRANSITIONS.map((t) => t.from));
    expect(PROMOTION_STATUSES.filter((s) => !leaving.has(s))).toEqual([
      'ROLLED_BACK',
      'REJECTED',
      'WITHDRAWN',
    ]);
  });

  it('names a catalogued ledger event for each cause', () => {
    for (const event of PROMOTION_EVENTS)
      expect(LEDGER_EVENT_TYPES).toContain(PROMOTION_CAUSES[event].records);
  });

  it('refuses with the messages clients have always read', () => {
    const message = (
      from: (typeof PROMOTION_STATUSES)[number],
      event: (typeof PROMOTION_EVENTS)[number],
    ) => {
      try {
        transition(from, event);
      } catch (error) {
        return (error as Error).message;
      }
      return null;
    };
    expect(message('APPROVED', 'approve')).toBe('the request already has every approval it needs');
    expect(message('REJECTED', 'approve')).toBe(
      'the request is REJECTED: it can no longer be approved',
    );
    expect(message('COMPLETED', 'reject')).toBe(
      'the request is COMPLETED: it can no longer be rejected',
    );
    expect(message('ROLLING_OUT', 'withdraw')).toBe(
      'the request is ROLLING_OUT: it can no longer be withdrawn',
    );
    expect(message('WITHDRAWN', 'start-staged')).toBe(
      'the request is WITHDRAWN: there is nothing to start',
    );
  });
});
