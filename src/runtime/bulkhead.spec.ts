import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { Bulkhead, LANES, type Lane } from './bulkhead.js';

const steps = fc.array(
  fc.oneof(
    fc.record({
      kind: fc.constant('offer' as const),
      lane: fc.constantFrom<Lane>(...LANES),
      key: fc.constantFrom('v1', 'v2', 'v3'),
    }),
    fc.constant({ kind: 'take' as const }),
  ),
  { maxLength: 200 },
);
const limits = fc.record({
  candidate: fc.integer({ min: 0, max: 4 }),
  shadow: fc.integer({ min: 0, max: 4 }),
});

describe('Bulkhead', () => {
  it('refuses exactly what would go beyond a queue’s limit, and loses nothing it accepted', () => {
    fc.assert(
      fc.property(limits, steps, (limit, script) => {
        const sut = new Bulkhead<number>(limit);
        // The model: per lane and key, the items waiting in order.
        const model = new Map<string, number[]>();
        let next = 0;
        for (const step of script) {
          if (step.kind === 'offer') {
            const id = `${step.lane}/${step.key}`;
            const queue = model.get(id) ?? [];
            const room = sut.hasRoom(step.lane, step.key);
            const accepted = sut.offer(step.lane, step.key, next);
            expect(accepted).toBe(queue.length < limit[step.lane]);
            expect(room).toBe(accepted);
            if (accepted) model.set(id, [...queue, next]);
            next++;
          } else {
            const taken = sut.take();
            const waitingCandidates = [...model].some(
              ([id, q]) => id.startsWith('candidate/') && q.length > 0,
            );
            const anyWaiting = [...model.values()].some((q) => q.length > 0);
            if (!anyWaiting) {
              expect(taken).toBeUndefined();
              continue;
            }
            if (!taken) throw new Error('an item waits but none was taken');
            // Shadow work only when no canary request waits; first in, first out per key.
            expect(taken.lane).toBe(waitingCandidates ? 'candidate' : 'shadow');
            const queue = model.get(`${taken.lane}/${taken.key}`) ?? [];
            expect(taken.item).toBe(queue[0]);
            model.set(`${taken.lane}/${taken.key}`, queue.slice(1));
          }
          const total = [...model.values()].reduce((n, q) => n + q.length, 0);
          expect(sut.waiting()).toBe(total);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('lets the versions of a lane take turns', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 5 }),
        (counts) => {
          const sut = new Bulkhead<string>({ candidate: 10, shadow: 10 });
          counts.forEach((n, k) => {
            for (let i = 0; i < n; i++) sut.offer('shadow', `v${k}`, `v${k}#${i}`);
          });
          const order: string[] = [];
          for (let t = sut.take(); t; t = sut.take()) order.push(t.key);
          // Round by round: each version with items left gives one per round.
          const expected: string[] = [];
          for (let round = 0; round < Math.max(...counts); round++)
            counts.forEach((n, k) => {
              if (round < n) expected.push(`v${k}`);
            });
          expect(order).toEqual(expected);
        },
      ),
    );
  });

  it('serves a canary request offered after a backlog of shadow copies first', () => {
    const sut = new Bulkhead<string>({ candidate: 1, shadow: 3 });
    expect(sut.offer('shadow', 'v2', 's1')).toBe(true);
    expect(sut.offer('shadow', 'v2', 's2')).toBe(true);
    expect(sut.offer('candidate', 'v2', 'c1')).toBe(true);
    expect(sut.offer('candidate', 'v2', 'c2')).toBe(false);
    expect(sut.waiting('shadow')).toBe(2);
    expect(sut.waiting('candidate')).toBe(1);
    expect(sut.take()).toEqual({ lane: 'candidate', key: 'v2', item: 'c1' });
    expect(sut.take()?.item).toBe('s1');
  });

  it('hands back everything waiting when cleared', () => {
    const sut = new Bulkhead<string>({ candidate: 2, shadow: 2 });
    sut.offer('shadow', 'a', 's');
    sut.offer('candidate', 'b', 'c');
    expect(sut.clear().map((t) => t.item)).toEqual(['c', 's']);
    expect(sut.waiting()).toBe(0);
    expect(sut.take()).toBeUndefined();
  });
});
