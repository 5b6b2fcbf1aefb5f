import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { Settlements, type LogOutcome } from './settlements.js';

const written: LogOutcome = { kind: 'written' };
const spooled: LogOutcome = { kind: 'spooled' };
const refused: LogOutcome = { kind: 'dropped', reason: 'refused', message: 'refused' };
const lost: LogOutcome = { kind: 'dropped', reason: 'writer-lost', message: 'lost' };
const stopped: LogOutcome = { kind: 'dropped', reason: 'shutting-down', message: 'stopped' };

const endpoints = ['a', 'b', 'c'] as const;

type Op =
  | { readonly op: 'accept'; readonly endpoint: string; readonly wait: boolean }
  | { readonly op: 'handOver' }
  | {
      readonly op: 'settle';
      readonly endpoint: string;
      readonly count: number;
      readonly outcome: LogOutcome;
    }
  | { readonly op: 'lose' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      op: fc.constant('accept' as const),
      endpoint: fc.constantFrom(...endpoints),
      wait: fc.boolean(),
    }),
  },
  { weight: 2, arbitrary: fc.constant({ op: 'handOver' as const }) },
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('settle' as const),
      endpoint: fc.constantFrom(...endpoints),
      count: fc.integer({ min: 1, max: 4 }),
      outcome: fc.constantFrom(written, spooled, refused),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ op: 'lose' as const }) },
);

/** The same bookkeeping done the slow way: each prediction with its own state. */
interface ModelPrediction {
  readonly endpoint: string;
  handedOver: boolean;
  outcome: LogOutcome | undefined;
  /** What its caller was told, in the order told (once, if it waited). */
  readonly told: LogOutcome[] | undefined;
}

describe('Settlements', () => {
  it('tells each waiting caller the outcome of its own prediction, once, in any interleaving', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { maxLength: 120 }), async (ops) => {
        const sut = new Settlements();
        const model: ModelPrediction[] = [];
        for (const o of ops) {
          switch (o.op) {
            case 'accept': {
              sut.accept(o.endpoint);
              const told = o.wait ? ([] as LogOutcome[]) : undefined;
              model.push({ endpoint: o.endpoint, handedOver: false, outcome: undefined, told });
              if (told) void sut.outcomeOfLast(o.endpoint).then((outcome) => told.push(outcome));
              break;
            }
            case 'handOver':
              sut.handedOver();
              for (const p of model) p.handedOver = true;
              break;
            case 'settle': {
              const open = model.filter(
                (p) => p.endpoint === o.endpoint && p.handedOver && !p.outcome,
              );
              const beyond = sut.settle(o.endpoint, o.count, o.outcome);
              for (const p of open.slice(0, o.count)) p.outcome = o.outcome;
              expect(beyond).toBe(Math.max(0, o.count - open.length));
              break;
            }
            case 'lose':
              sut.settleHandedOver(lost);
              for (const p of model) if (p.handedOver && !p.outcome) p.outcome = lost;
              break;
          }
        }
        // Resolutions run as microtasks: let every one that is due run.
        await new Promise((resolve) => setImmediate(resolve));
        for (const p of model) {
          if (!p.told) continue;
          expect(p.told).toEqual(p.outcome ? [p.outcome] : []);
        }
        expect(sut.pending).toBe(model.filter((p) => p.told && !p.outcome).length);

        // Stopping settles the rest; no caller is left waiting or told twice.
        sut.settleAll(stopped);
        for (const p of model) p.outcome ??= stopped;
        await new Promise((resolve) => setImmediate(resolve));
        for (const p of model) if (p.told) expect(p.told).toEqual([p.outcome]);
        expect(sut.pending).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it('settles only handed-over predictions, the oldest of their endpoint first', async () => {
    const sut = new Settlements();
    sut.accept('a');
    const first = sut.outcomeOfLast('a');
    sut.accept('b');
    sut.accept('a');
    const second = sut.outcomeOfLast('a');
    sut.handedOver();
    sut.accept('a');
    const third = sut.outcomeOfLast('a');
    expect(sut.settle('a', 1, spooled)).toBe(0);
    expect(sut.settle('b', 1, refused)).toBe(0);
    // Two more than were handed over: the one in the packer is not the writer's to settle.
    expect(sut.settle('a', 3, written)).toBe(2);
    expect(await first).toEqual(spooled);
    expect(await second).toEqual(written);
    expect(sut.pending).toBe(1);
    expect(sut.settleAll(stopped)).toBe(1);
    expect(await third).toEqual(stopped);
  });

  it('refuses to wait for a prediction it was not given', () => {
    const sut = new Settlements();
    expect(() => sut.outcomeOfLast('a')).toThrow('no prediction of a is waiting');
  });
});
