import { afterEach, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { loadGermanCredit } from '../model-builder/german-credit.js';
import { trainLogisticRegression } from '../model-builder/logistic-regression.js';
import { createSession, runScores } from '../../test/support/onnx-scoring.js';
import {
  MODEL_THREAD_NAME,
  ModelThreadLostError,
  ModelWorkerPool,
  type ModelWorkerPoolOptions,
} from './model-worker-pool.js';
import type { WireTensor } from './model-worker-protocol.js';

/** These tests start real threads from the worker's TypeScript source. */
const data = loadGermanCredit();
const F = data.featureNames.length;
const base = trainLogisticRegression(data, { features: data.featureNames.slice(0, 20) });
const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const BASE = sha256(base.bytes);
const rows = data.X.slice(0, 8);

function feeds(X: readonly Float32Array[]): WireTensor[] {
  const flat = new Float32Array(X.length * F);
  X.forEach((row, i) => {
    flat.set(row, i * F);
  });
  return [{ name: 'features', type: 'float32', dims: [X.length, F], data: flat }];
}

function scoresOf(outputs: readonly WireTensor[]): number[] {
  const score = outputs.find((t) => t.name === 'score');
  return Array.from(score?.data as Float32Array);
}

function accepted<T>(run: Promise<T> | undefined): Promise<T> {
  if (!run) throw new Error('the pool refused the run');
  return run;
}

let pools: ModelWorkerPool[] = [];
function poolOf(options: Partial<ModelWorkerPoolOptions> = {}): ModelWorkerPool {
  const sut = new ModelWorkerPool({
    threads: 1,
    niceness: 0,
    limits: { candidate: 2, shadow: 2 },
    sessionsPerThread: 2,
    readArtifact: (sha) =>
      sha === BASE ? Promise.resolve(base.bytes) : Promise.reject(new Error(`no blob ${sha}`)),
    ...options,
  });
  pools.push(sut);
  return sut;
}

afterEach(async () => {
  await Promise.all(pools.map((p) => p.close()));
  pools = [];
});

/** Per thread of this process: its name, nice value and scheduling policy (Linux). */
function threadsOfThisProcess(): { name: string; nice: number; policy: number }[] {
  return readdirSync('/proc/self/task').map((tid) => {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    // Fields after the name (which is in parentheses): nice is the 19th field of the line,
    // the policy the 41st (0 SCHED_OTHER, 5 SCHED_IDLE).
    const after = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return {
      name: readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim(),
      nice: Number(after[16]),
      policy: Number(after[38]),
    };
  });
}

const SCHED_IDLE = 5;

describe('ModelWorkerPool', () => {
  it('runs a model on a thread of its own, niced, with the scores the main thread gets', async () => {
    const sut = poolOf({ niceness: 7 });
    const ran = await sut.submit('candidate', BASE, feeds(rows));
    const mainSession = await createSession(base.bytes);
    expect(scoresOf(ran?.outputs ?? [])).toEqual(await runScores(mainSession, rows, F));
    expect(ran?.runMs).toBeGreaterThan(0);
    if (process.platform === 'linux') {
      // The thread and any it started (a thread's name and priority pass to its children).
      const threads = threadsOfThisProcess().filter((t) => t.name === MODEL_THREAD_NAME);
      expect(threads.length).toBeGreaterThanOrEqual(1);
      expect(threads.every((t) => t.nice === 7)).toBe(true);
      expect(threadsOfThisProcess().filter((t) => t.nice === 7).length).toBe(threads.length);
    }
  });

  it('runs its threads under the idle scheduling policy when asked, and nothing else', async () => {
    const sut = poolOf({ niceness: 19, idlePriority: true });
    await sut.submit('candidate', BASE, feeds(rows));
    if (process.platform === 'linux') {
      // This pool's threads (nice 19: those of an earlier test's pool may still be ending).
      const threads = threadsOfThisProcess();
      const model = threads.filter((t) => t.name === MODEL_THREAD_NAME && t.nice === 19);
      expect(model.length).toBeGreaterThanOrEqual(1);
      expect(model.every((t) => t.policy === SCHED_IDLE)).toBe(true);
      expect(threads.filter((t) => t.policy === SCHED_IDLE)).toEqual(model);
    }
  });

  it('counts a run’s wait and run, not the time its answer waits for a busy main thread', async () => {
    const sut = poolOf();
    await sut.submit('candidate', BASE, feeds(rows));
    const started = performance.now();
    const running = sut.submit('candidate', BASE, feeds(rows));
    // The main thread busy for a second, as under a long live run: the thread answers within
    // it, and its answer waits for the main thread to be free.
    while (performance.now() - started < 1000);
    const ran = await running;
    expect(performance.now() - started).toBeGreaterThanOrEqual(1000);
    expect(ran?.latencyMs).toBeLessThan(500);
  });

  it('refuses work beyond a version’s queue in a lane, and serves canary before shadow', async () => {
    const sut = poolOf({ limits: { candidate: 2, shadow: 2 } });
    const done: string[] = [];
    const submit = (lane: 'candidate' | 'shadow', label: string) => {
      const run = sut.submit(lane, BASE, feeds(rows));
      void run?.then(() => done.push(label));
      return run;
    };
    // The first run goes to the thread at once; the queues then hold two of each lane.
    const queued = [
      accepted(submit('shadow', 's0')),
      accepted(submit('shadow', 's1')),
      accepted(submit('shadow', 's2')),
      accepted(submit('candidate', 'c1')),
      accepted(submit('candidate', 'c2')),
    ];
    expect(sut.stats()).toMatchObject({ running: 1, waiting: { candidate: 2, shadow: 2 } });
    expect(submit('shadow', 's3')).toBeUndefined();
    expect(submit('candidate', 'c3')).toBeUndefined();
    // Another version has queues of its own (this one's artifact cannot be read).
    const other = sut.submit('shadow', 'f'.repeat(64), feeds(rows));
    expect(other).toBeDefined();
    await expect(other).rejects.toThrow(/no blob/);
    await Promise.allSettled(queued);
    expect(done).toEqual(['s0', 'c1', 'c2', 's1', 's2']);
  });

  it('refuses bytes that do not match their digest, and loads them again once they do', async () => {
    let tampered = true;
    const sut = poolOf({
      readArtifact: () => {
        const bytes = Uint8Array.from(base.bytes);
        const last = bytes.length - 1;
        if (tampered) bytes[last] = (bytes[last] ?? 0) ^ 1;
        return Promise.resolve(bytes);
      },
    });
    await expect(sut.submit('candidate', BASE, feeds(rows))).rejects.toThrow(
      /does not match its digest/,
    );
    tampered = false;
    const ran = await sut.submit('candidate', BASE, feeds(rows));
    expect(scoresOf(ran?.outputs ?? [])).toHaveLength(rows.length);
  });

  it('fails the run of a thread that dies, replaces the thread, and runs what waited', async () => {
    const lost: Error[] = [];
    const sut = poolOf({
      workerUrl: new URL('../../test/support/exiting-model-worker.mjs', import.meta.url),
      onThreadLost: (error) => lost.push(error),
    });
    await sut.submit('candidate', BASE, feeds(rows));
    const poison = feeds(rows);
    (poison[0]?.data as Float32Array)[0] = -666;
    const dying = sut.submit('candidate', BASE, poison);
    const next = sut.submit('candidate', BASE, feeds(rows));
    await expect(dying).rejects.toBeInstanceOf(ModelThreadLostError);
    expect(scoresOf((await next)?.outputs ?? [])).toHaveLength(rows.length);
    expect(lost).toHaveLength(1);
    expect(sut.stats().restarts).toBe(1);
  });

  it('lets queued work finish when closed, then takes no more', async () => {
    const sut = poolOf();
    const runs = [1, 2, 3].map(() => accepted(sut.submit('shadow', BASE, feeds(rows))));
    await sut.close();
    const settled = await Promise.allSettled(runs);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
    expect(sut.submit('candidate', BASE, feeds(rows))).toBeUndefined();
  });
});
