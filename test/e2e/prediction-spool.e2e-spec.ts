import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { buildGermanCreditModels, type GermanCreditModels } from '../../src/model-builder/index.js';
import { PredictionLog } from '../../src/prediction-log/prediction-log.service.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { recomputeDigest } from '../support/prediction-digest.js';
import { seedLiveEndpoint } from '../support/registry.js';

/**
 * Predictions answered while PostgreSQL cannot take the log: the service's DATABASE_URL goes
 * through a TCP proxy that kills (every connection cut, new ones refused) or pauses (nothing
 * answers) the database for the service alone. What was answered waits in the spool on disk
 * and, once the database is back, is written and sealed in the order it was answered: every
 * answered request is in the log. Without a spool and with the queue full, an endpoint that
 * requires the log refuses requests; a best-effort one answers and counts the drop.
 */
describe('predictions through a PostgreSQL outage', () => {
  let models: GermanCreditModels;
  let proxy: FaultProxy;
  let server: URL;
  const apps: TestApp[] = [];

  beforeAll(async () => {
    models = buildGermanCreditModels();
    server = new URL(process.env['GATEHOUSE_TEST_SERVER_URL'] ?? '');
    proxy = await startFaultProxy({ host: server.hostname, port: Number(server.port || 5432) });
  });
  afterEach(() => {
    proxy.resume();
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    await proxy.close();
  });

  async function serving(env: Record<string, string>): Promise<{ app: TestApp; client: string }> {
    const app = await startTestApp(
      {
        GATEHOUSE_CHECKPOINT_INTERVAL_SECONDS: '0',
        GATEHOUSE_PREDICTION_LOG_BATCH_ROWS: '7',
        GATEHOUSE_PREDICTION_LOG_FLUSH_MS: '50',
        GATEHOUSE_PREDICTION_LOG_WRITE_TIMEOUT_MS: '500',
        ...env,
      },
      { databaseUrl: (url) => proxy.route(url) },
    );
    apps.push(app);
    await seedLiveEndpoint(app, { model: 'credit', endpoint: 'credit', versions: [models.fair] });
    await seedLiveEndpoint(app, {
      model: 'credit-lite',
      endpoint: 'credit-lite',
      versions: [models.fair],
      riskTier: 'MEDIUM',
    });
    const client = await app.token('app-7', 'inference-client');
    // Both endpoints serving (and in the router's cache) before any fault, as in production.
    expect(await infer(app, client, 'credit', 'warm-0')).toBe(200);
    expect(await infer(app, client, 'credit-lite', 'warm-1')).toBe(200);
    await until(app.running.app.get(PredictionLog), (s) => s.written === 2, 'warm-up not logged');
    return { app, client };
  }

  async function infer(app: TestApp, client: string, endpoint: string, id: string) {
    const response = await fetch(`${app.url}/v2/models/${endpoint}/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${client}` },
      body: JSON.stringify({
        id,
        inputs: [
          {
            name: 'features',
            datatype: 'FP32',
            shape: [1, 60],
            data: Array.from(models.data.X[(Number(/\d+$/.exec(id)?.[0]) || 0) % 100] ?? []),
          },
        ],
      }),
    });
    await response.arrayBuffer();
    return response.status;
  }

  /** Polls the log's counts until `done` holds (the writer works on its own time). */
  async function until(
    log: PredictionLog,
    done: (stats: ReturnType<PredictionLog['stats']>) => boolean,
    what: string,
  ): Promise<void> {
    for (let attempt = 0; !done(log.stats()); attempt++) {
      if (attempt === 1200) throw new Error(`${what}: ${JSON.stringify(log.stats())}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Every answered request is logged once, in the order answered, in batches that verify. */
  async function everyAnswerLogged(app: TestApp, ids: readonly string[]): Promise<void> {
    const db = new pg.Client({ connectionString: app.database.url });
    await db.connect();
    try {
      const logged = await db.query<{ request_id: string }>(
        `SELECT request_id FROM predictions WHERE request_id = ANY($1) ORDER BY id`,
        [ids],
      );
      expect(logged.rows.map((r) => r.request_id)).toEqual(ids);
      const batches = await db.query<{ id: string; sha256: string }>(
        `SELECT DISTINCT b.id, b.sha256 FROM prediction_batches b
         JOIN predictions p ON p.batch_id = b.id WHERE p.request_id = ANY($1)`,
        [ids],
      );
      for (const b of batches.rows) expect(await recomputeDigest(db, Number(b.id))).toBe(b.sha256);
      // Every batch sealed into the ledger (the sequencer gets to it within a sweep).
      for (let attempt = 0; ; attempt++) {
        const { rows } = await db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM ledger_events
           WHERE type = 'predictions.logged'
             AND (canonical::jsonb->'payload'->>'batchId')::bigint = ANY($1)`,
          [batches.rows.map((b) => b.id)],
        );
        if (rows[0]?.n === batches.rows.length) break;
        if (attempt === 600) throw new Error('the batches were never sealed into the ledger');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      await db.end();
    }
  }

  /** The segment files of this process's spool (the first folder under the spool root). */
  const spoolFiles = (app: TestApp): string[] =>
    readdirSync(join(app.config.predictionLog.spoolDir, '0')).filter((f) => f.endsWith('.spool'));

  it.each([
    [
      'killed',
      (): void => {
        proxy.kill();
      },
    ],
    [
      'paused',
      (): void => {
        proxy.pause();
      },
    ],
  ])(
    'database %s: the answers wait on disk and are written and sealed, in order, once it is back',
    async (fault, inject) => {
      const { app, client } = await serving({});
      const log = app.running.app.get(PredictionLog);
      inject();
      const ids: string[] = [];
      for (let i = 0; i < 40; i++) {
        const id = `${fault}-${i}`;
        // The endpoint requires the log: answered means kept.
        expect(await infer(app, client, 'credit', id)).toBe(200);
        ids.push(id);
      }
      await until(log, (s) => s.spooled === ids.length, 'never all spooled');
      expect(log.stats()).toMatchObject({ queued: 0, dropped: 0, refused: 0 });
      expect(spoolFiles(app).length).toBeGreaterThan(0);
      proxy.resume();
      await until(log, (s) => s.spooled === 0 && s.written === 2 + ids.length, 'never written');
      await everyAnswerLogged(app, ids);
      expect(spoolFiles(app)).toEqual([]);
      expect(log.stats().dropped).toBe(0);
    },
  );

  it('without a spool and with the queue full: REQUIRED refuses, BEST_EFFORT answers and counts the drop', async () => {
    const { app, client } = await serving({
      GATEHOUSE_PREDICTION_SPOOL_MB: '0',
      GATEHOUSE_PREDICTION_LOG_QUEUE_LIMIT: '5',
    });
    const log = app.running.app.get(PredictionLog);
    proxy.kill();
    const required: number[] = [];
    for (let i = 0; i < 7; i++) required.push(await infer(app, client, 'credit', `full-${i}`));
    expect(required).toEqual([200, 200, 200, 200, 200, 503, 503]);
    expect(await infer(app, client, 'credit-lite', 'lite-0')).toBe(200);
    expect(log.stats()).toMatchObject({ queued: 5, spooled: 0, dropped: 1, refused: 2 });
    proxy.resume();
    await until(log, (s) => s.written === 2 + 5, 'the queue was never written');
    await everyAnswerLogged(
      app,
      Array.from({ length: 5 }, (_, i) => `full-${i}`),
    );
    expect(await infer(app, client, 'credit', 'full-after')).toBe(200);
  });
});
