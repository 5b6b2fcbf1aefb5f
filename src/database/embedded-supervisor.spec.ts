import { describe, expect, it } from '@jest/globals';
import { ChildProcess } from 'node:child_process';
import { EmbeddedSupervisor, type Postmaster, type Schedule } from './embedded-supervisor.js';
import type { RestartBackoff } from './restart-backoff.js';

const backoff: RestartBackoff = { initialMs: 500, maxMs: 30_000, stableMs: 60_000 };

/** A postmaster stand-in: a ChildProcess that was never spawned, exited on demand. */
class FakeChild extends ChildProcess {
  constructor(readonly fakePid: number) {
    super();
    Object.defineProperty(this, 'pid', { value: fakePid });
  }
  die(signal: NodeJS.Signals | null, code: number | null = null): void {
    Object.defineProperty(this, 'signalCode', { value: signal });
    Object.defineProperty(this, 'exitCode', { value: code });
    this.emit('exit', code, signal);
  }
}

/** The server, the clock and the timers, all in the test's hands. */
function harness() {
  let nextPid = 100;
  let clock = 0;
  const timers: { fn: () => void; ms: number; cancelled: boolean }[] = [];
  const lines: string[] = [];
  const events: string[] = [];
  const starts: ((outcome: FakeChild | Error) => void)[] = [];
  const children: FakeChild[] = [];
  const server: Postmaster = {
    start: () =>
      new Promise<ChildProcess>((resolve, reject) => {
        starts.push((outcome) => {
          if (outcome instanceof Error) reject(outcome);
          else resolve(outcome);
        });
      }),
    stop: () => {
      events.push('stop');
      children.at(-1)?.die(null, 0);
      return Promise.resolve();
    },
    clearLeftovers: () => {
      events.push('clear');
    },
    recentErrors: () => 'FATAL: lock file "postmaster.pid" already exists',
  };
  const schedule: Schedule = (fn, ms) => {
    const timer = { fn, ms, cancelled: false };
    timers.push(timer);
    return () => {
      timer.cancelled = true;
    };
  };
  const first = new FakeChild(nextPid++);
  children.push(first);
  const sut = new EmbeddedSupervisor(
    server,
    first,
    {
      log: (m) => lines.push(`log ${m}`),
      warn: (m) => lines.push(`warn ${m}`),
      error: (m) => lines.push(`error ${m}`),
    },
    backoff,
    schedule,
    () => clock,
  );
  const flush = () => new Promise((resolve) => setImmediate(resolve));
  return {
    sut,
    lines,
    events,
    timers,
    current: () => children.at(-1) as FakeChild,
    advance: (ms: number) => {
      clock += ms;
    },
    /** Fires the pending wait: a start begins. */
    async fire(): Promise<void> {
      const timer = timers.at(-1);
      if (timer === undefined || timer.cancelled) throw new Error('no restart is waiting');
      timer.fn();
      await flush();
    },
    /** Settles the start under way: the server is up, or the start failed. */
    async settle(outcome: 'up' | Error): Promise<void> {
      const settle = starts.pop();
      if (settle === undefined) throw new Error('no start was made');
      if (outcome === 'up') {
        const child = new FakeChild(nextPid++);
        children.push(child);
        settle(child);
      } else settle(outcome);
      await flush();
    },
    async fireAndStart(outcome: 'up' | Error): Promise<void> {
      await this.fire();
      await this.settle(outcome);
    },
  };
}

describe('the embedded PostgreSQL supervisor', () => {
  it('restarts a killed postmaster after the initial wait, clearing what it left behind', async () => {
    const h = harness();
    expect(h.sut.state()).toMatchObject({ status: 'running', restarts: 0, lastDeath: null });

    h.advance(5_000);
    h.current().die('SIGKILL');
    expect(h.timers.map((t) => t.ms)).toEqual([500]);
    expect(h.sut.state()).toEqual({
      status: 'restarting',
      restarts: 0,
      lastDeath: { at: '1970-01-01T00:00:05.000Z', cause: 'signal SIGKILL' },
      nextAttemptAt: '1970-01-01T00:00:05.500Z',
    });
    expect(h.lines).toEqual([
      'error embedded PostgreSQL (pid 100) died: signal SIGKILL; restarting in 500 ms (death 1 in a row)',
    ]);

    await h.fireAndStart('up');
    expect(h.events).toEqual(['clear']);
    expect(h.sut.state()).toMatchObject({ status: 'running', restarts: 1, nextAttemptAt: null });
    expect(h.lines.at(-1)).toBe('log embedded PostgreSQL restarted (pid 101, restart 1)');
  });

  it('waits longer after each death in a row, failed starts included, and forgives a stable server', async () => {
    const h = harness();
    h.current().die(null, 1);
    await h.fireAndStart(new Error('postgres exited'));
    expect(h.lines.some((l) => l.startsWith('warn embedded PostgreSQL did not restart'))).toBe(
      true,
    );
    expect(h.lines.at(-2)).toContain('lock file "postmaster.pid" already exists');
    await h.fireAndStart('up');
    h.current().die('SIGSEGV');
    expect(h.timers.map((t) => t.ms)).toEqual([500, 1000, 2000]);
    expect(h.sut.state().lastDeath?.cause).toBe('signal SIGSEGV');

    await h.fireAndStart('up');
    h.advance(60_000);
    h.current().die('SIGKILL');
    expect(h.timers.at(-1)?.ms).toBe(500);
    expect(h.sut.state().restarts).toBe(2);
  });

  it('on shutdown stops a running server cleanly and never restarts it', async () => {
    const h = harness();
    await h.sut.stop();
    expect(h.events).toEqual(['stop']);
    expect(h.sut.state().status).toBe('stopped');
    expect(h.timers).toEqual([]);
  });

  it('on shutdown while waiting to restart cancels the restart and stops nothing dead', async () => {
    const h = harness();
    h.current().die('SIGKILL');
    await h.sut.stop();
    expect(h.timers.map((t) => t.cancelled)).toEqual([true]);
    expect(h.events).toEqual([]);
    expect(h.sut.state()).toMatchObject({ status: 'stopped', nextAttemptAt: null });
  });

  it('on shutdown during a restart lets the start finish, then stops that server', async () => {
    const h = harness();
    h.current().die('SIGKILL');
    await h.fire();
    const stopped = h.sut.stop();
    // The start in flight completes; stop() must wait for it rather than leave it running.
    expect(h.events).toEqual(['clear']);
    await h.settle('up');
    await stopped;
    expect(h.events).toEqual(['clear', 'stop']);
    expect(h.sut.state()).toMatchObject({ status: 'stopped', restarts: 0 });
  });
});
