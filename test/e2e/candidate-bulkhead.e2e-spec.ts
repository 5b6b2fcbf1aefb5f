import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { CandidateExecutor } from '../../src/inference/candidate-executor.service.js';
import { EndpointRouter } from '../../src/inference/endpoint-router.service.js';
import { loadGermanCredit } from '../../src/model-builder/german-credit.js';
import { slowModel } from '../../src/model-builder/faulty.js';
import { trainLogisticRegression } from '../../src/model-builder/logistic-regression.js';
import { PredictionLog } from '../../src/prediction-log/prediction-log.service.js';
import type { WorkerPoolStats } from '../../src/runtime/model-worker-pool.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { seedLiveEndpoint, setTraffic } from '../support/registry.js';

/**
 * A slow candidate in shadow and in canary, with the candidate's thread provably busy: a
 * request of hundreds of rows keeps it running (seconds of work), two more wait in its queue
 * (limit 2), and every request after that is answered while the queue still holds those two,
 * which it could not if the thread had finished the long run. Nothing here depends on how
 * fast the machine is: a slower machine only makes the long run longer.
 */
const QUEUE_LIMIT = 2;
const BLOCKING_ROWS = 400;

interface InferAnswer {
  readonly status: number;
  readonly version: string | undefined;
}

describe('a slow candidate does not hold up live answers', () => {
  let app: TestApp;
  let token: string;
  let live: number;
  let candidate: number;
  const data = loadGermanCredit();
  const F = data.featureNames.length;

  function infer(rows: number): Promise<InferAnswer> {
    const X = Array.from({ length: rows }, (_, i) => Array.from(data.X[i % data.X.length] ?? []));
    return fetch(`${app.url}/v2/models/credit/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({
        inputs: [{ name: 'features', datatype: 'FP32', shape: [rows, F], data: X.flat() }],
      }),
    }).then(async (response) => {
      const body = (await response.json()) as { model_version?: string };
      return { status: response.status, version: body.model_version };
    });
  }

  const pool = (): WorkerPoolStats => app.running.app.get(CandidateExecutor).stats();

  async function until(what: string, condition: () => boolean): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  async function scrape(): Promise<string> {
    const response = await fetch(`${app.url}/metrics`);
    return response.text();
  }

  function counter(text: string, name: string, labels: string): number {
    const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
    return Number(line?.split(' ').at(-1) ?? 0);
  }

  /** Moves the endpoint's traffic and waits until this replica routes by it. */
  async function traffic(change: Parameters<typeof setTraffic>[2]): Promise<void> {
    await setTraffic(app, 'credit', change);
    const router = app.running.app.get(EndpointRouter);
    await until(
      'the router has the new traffic',
      () => router.peek('credit')?.mode === change.mode,
    );
  }

  beforeAll(async () => {
    app = await startTestApp({
      GATEHOUSE_CHECKPOINT_INTERVAL_SECONDS: '0',
      GATEHOUSE_CANDIDATE_THREADS: '1',
      GATEHOUSE_CANDIDATE_QUEUE_LIMIT: String(QUEUE_LIMIT),
      GATEHOUSE_SHADOW_QUEUE_LIMIT: String(QUEUE_LIMIT),
    });
    token = await app.token('app-1', 'inference-client');
    const base = trainLogisticRegression(data, {});
    // Tens of milliseconds a row: the blocking request keeps the thread for seconds.
    const slow = slowModel(base, { iterations: 12000, width: 256 });
    const seeded = await seedLiveEndpoint(app, {
      model: 'credit',
      endpoint: 'credit',
      versions: [base, slow],
    });
    [live, candidate] = seeded.versions as [number, number];
  }, 120_000);

  afterAll(async () => {
    await app.close();
  });

  it('answers canary requests beyond the candidate’s queue with the live version', async () => {
    await traffic({ candidateVersion: candidate, mode: 'CANARY', candidateWeight: 10_000 });
    const before = counter(
      await scrape(),
      'gatehouse_candidate_overflow_total',
      `endpoint="credit",version="${candidate}"`,
    );
    let blockingDone = false;
    const blocking = infer(BLOCKING_ROWS).finally(() => (blockingDone = true));
    await until('the candidate runs the blocking request', () => pool().running === 1);
    const queued = [infer(1), infer(1)];
    await until('two canary requests wait', () => pool().waiting.candidate === QUEUE_LIMIT);

    const overflow: InferAnswer[] = [];
    for (let i = 0; i < 5; i++) overflow.push(await infer(1));
    // The queue still holds the same two requests: the thread was on the long run throughout.
    expect(pool()).toMatchObject({ running: 1, waiting: { candidate: QUEUE_LIMIT } });
    expect(blockingDone).toBe(false);
    expect(overflow).toEqual(Array(5).fill({ status: 200, version: String(live) }));

    expect(await blocking).toEqual({ status: 200, version: String(candidate) });
    expect(await Promise.all(queued)).toEqual(
      Array(QUEUE_LIMIT).fill({ status: 200, version: String(candidate) }),
    );
    const text = await scrape();
    expect(
      counter(
        text,
        'gatehouse_candidate_overflow_total',
        `endpoint="credit",version="${candidate}"`,
      ),
    ).toBe(before + 5);
  }, 120_000);

  it('drops shadow copies beyond the candidate’s queue, live answering every request', async () => {
    await traffic({ candidateVersion: candidate, mode: 'SHADOW', shadowSample: 10_000 });
    await until('the candidate thread is idle', () => pool().running === 0);
    const dropped = () =>
      scrape().then((text) => counter(text, 'gatehouse_shadow_dropped_total', 'endpoint="credit"'));
    const before = await dropped();
    // Live answers the blocking request at once; its copy keeps the candidate's thread.
    expect(await infer(BLOCKING_ROWS)).toEqual({ status: 200, version: String(live) });
    await until('the candidate runs the blocking copy', () => pool().running === 1);
    for (let i = 0; i < QUEUE_LIMIT; i++)
      expect(await infer(1)).toEqual({ status: 200, version: String(live) });
    await until('two copies wait', () => pool().waiting.shadow === QUEUE_LIMIT);

    for (let i = 0; i < 5; i++)
      expect(await infer(1)).toEqual({ status: 200, version: String(live) });
    expect(pool()).toMatchObject({ running: 1, waiting: { shadow: QUEUE_LIMIT } });
    let seen = before;
    await until('five copies are counted as dropped', () => {
      void dropped().then((n) => (seen = n));
      return seen === before + 5;
    });
    // The copies that waited are run and logged as shadow predictions in the end.
    await until('the candidate thread is idle', () => pool().running === 0);
    await app.running.app.get(PredictionLog).flush();
    const db = new pg.Client({ connectionString: app.database.url });
    await db.connect();
    try {
      const r = await db.query(
        `SELECT count(*)::int AS n FROM predictions WHERE model_version = $1 AND arm = 'shadow'`,
        [candidate],
      );
      expect(r.rows).toEqual([{ n: 1 + QUEUE_LIMIT }]);
    } finally {
      await db.end();
    }
  }, 120_000);
});
