import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import type { PredictionRecord } from '../../src/prediction-log/prediction.js';
import { PredictionLog } from '../../src/prediction-log/prediction-log.service.js';
import type { LogOutcome } from '../../src/prediction-log/settlements.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';

const record = (endpoint: string, requestId: string): PredictionRecord => ({
  requestId,
  endpoint,
  modelVersion: 1,
  arm: 'live',
  inputs: [{ data: [1, 0.5], datatype: 'FP32', name: 'x', shape: [1, 2] }],
  outputs: [{ data: [0.25], datatype: 'FP32', name: 'score', shape: [1, 1] }],
  error: null,
  latencyMs: 0.2,
  routingKeyHash: null,
  createdAt: new Date('2026-12-06T10:00:00.000Z'),
});

const stoppedOutcome = {
  kind: 'dropped',
  reason: 'shutting-down',
  message: expect.any(String) as unknown,
};

/**
 * `recordDurably` through the real service, its writer and PostgreSQL (reached through a TCP
 * proxy that plays an outage for this service alone): each caller is told where its own
 * prediction ended up — written, spooled, or dropped and why — whatever else is recorded
 * around it.
 */
describe('the prediction log, telling a caller when its prediction is safe', () => {
  let proxy: FaultProxy;
  const apps: TestApp[] = [];

  beforeAll(async () => {
    const server = new URL(process.env['GATEHOUSE_TEST_SERVER_URL'] ?? '');
    proxy = await startFaultProxy({ host: server.hostname, port: Number(server.port || 5432) });
  });
  afterEach(() => {
    proxy.resume();
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    await proxy.close();
  });

  async function serving(env: Record<string, string> = {}): Promise<TestApp> {
    const app = await startTestApp(
      {
        GATEHOUSE_CHECKPOINT_INTERVAL_SECONDS: '0',
        GATEHOUSE_PREDICTION_LOG_BATCH_ROWS: '5',
        GATEHOUSE_PREDICTION_LOG_FLUSH_MS: '50',
        GATEHOUSE_PREDICTION_LOG_WRITE_TIMEOUT_MS: '500',
        ...env,
      },
      { databaseUrl: (url) => proxy.route(url) },
    );
    apps.push(app);
    return app;
  }

  async function logged(app: TestApp, endpoint: string): Promise<string[]> {
    const db = new pg.Client({ connectionString: app.database.url });
    await db.connect();
    try {
      const { rows } = await db.query<{ request_id: string }>(
        'SELECT request_id FROM predictions WHERE endpoint = $1 ORDER BY id',
        [endpoint],
      );
      return rows.map((r) => r.request_id);
    } finally {
      await db.end();
    }
  }

  async function until(log: PredictionLog, done: () => boolean, what: string): Promise<void> {
    for (let attempt = 0; !done(); attempt++) {
      if (attempt === 1200) throw new Error(`${what}: ${JSON.stringify(log.stats())}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it('written: each caller hears of its own prediction, endpoints interleaved, order kept', async () => {
    const app = await serving();
    const log = app.running.app.get(PredictionLog);
    const endpoints = ['credit', 'fraud', 'churn'];
    const ids = new Map(endpoints.map((e) => [e, [] as string[]]));
    const outcomes: Promise<LogOutcome>[] = [];
    for (let i = 0; i < 60; i++) {
      // Uneven shares, so that batches of different endpoints close at different times.
      const endpoint = endpoints[i % 7 < 4 ? 0 : i % 7 < 6 ? 1 : 2] ?? 'credit';
      const id = `${endpoint}-${i}`;
      ids.get(endpoint)?.push(id);
      // Every third one as the HTTP path records it: counted, nobody waiting.
      if (i % 3 === 0) expect(log.record(record(endpoint, id))).toBe(true);
      else outcomes.push(log.recordDurably(record(endpoint, id)));
    }
    const told = await Promise.all(outcomes);
    expect(told).toEqual(outcomes.map(() => ({ kind: 'written' })));
    // Written means committed: each endpoint's predictions are in the table, in order.
    for (const endpoint of endpoints)
      expect(await logged(app, endpoint)).toEqual(ids.get(endpoint));
  });

  it('written without waiting for the flush interval when a caller waits; counted only, it waits', async () => {
    const app = await serving({ GATEHOUSE_PREDICTION_LOG_FLUSH_MS: '60000' });
    const log = app.running.app.get(PredictionLog);
    // Recorded with nobody waiting: it stays queued until the interval (a minute here).
    expect(log.record(record('credit', 'counted-1'))).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(log.stats()).toMatchObject({ queued: 1, written: 0 });
    // A caller waiting: its batch, with the one before it, is written at once.
    expect(await log.recordDurably(record('credit', 'awaited-1'))).toEqual({ kind: 'written' });
    expect(await logged(app, 'credit')).toEqual(['counted-1', 'awaited-1']);
  });

  it('spooled: with the database away, on disk; written in order once it is back', async () => {
    const app = await serving();
    const log = app.running.app.get(PredictionLog);
    proxy.kill();
    const ids = Array.from({ length: 12 }, (_, i) => `away-${i}`);
    const told = await Promise.all(ids.map((id) => log.recordDurably(record('credit', id))));
    expect(told).toEqual(ids.map(() => ({ kind: 'spooled' })));
    expect(log.stats().spooled).toBe(ids.length);
    proxy.resume();
    await until(log, () => log.stats().spooled === 0, 'the spool was never written');
    expect(await logged(app, 'credit')).toEqual(ids);
  });

  it('dropped: at once when the queue is full, and at shutdown for what could not be kept', async () => {
    const app = await serving({
      GATEHOUSE_PREDICTION_SPOOL_MB: '0',
      GATEHOUSE_PREDICTION_LOG_QUEUE_LIMIT: '3',
    });
    const log = app.running.app.get(PredictionLog);
    proxy.kill();
    const kept = ['a', 'b', 'c'].map((id) => log.recordDurably(record('credit', id)));
    expect(await log.recordDurably(record('credit', 'd'))).toEqual({
      kind: 'dropped',
      reason: 'queue-full',
      message: 'the log queue is full',
    });
    // No spool and no database: the three wait in memory until the log stops.
    await until(log, () => log.stats().writeFailures > 0, 'no write was attempted');
    await log.onApplicationShutdown();
    expect(await Promise.all(kept)).toEqual(kept.map(() => stoppedOutcome));
    expect(await log.recordDurably(record('credit', 'e'))).toEqual(stoppedOutcome);
    proxy.resume();
    expect(await logged(app, 'credit')).toEqual([]);
  });

  it('dropped: with the log off', async () => {
    const app = await serving({ GATEHOUSE_PREDICTION_LOG: 'false' });
    const log = app.running.app.get(PredictionLog);
    expect(await log.recordDurably(record('credit', 'off'))).toMatchObject({
      kind: 'dropped',
      reason: 'disabled',
    });
  });
});
